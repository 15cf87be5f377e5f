/**
 * The history use case: the runs and resource lifecycle events in the audit store, newest first.
 * Read-only: a missing database is empty history and is not created.
 */
import { existsSync } from 'node:fs';
import type { Redactor } from '../redact.js';
import type { History } from '../store/model.js';
import { openAuditStore } from '../store/open.js';

export interface HistoryInput {
  dbPath: string;
  tenant?: string | undefined;
  limit: number;
  redactor: Redactor;
}

export interface HistoryResult {
  database: string;
  /** False when no database exists there yet (nothing has been recorded). */
  exists: boolean;
  history: History;
}

export async function readHistory(input: HistoryInput): Promise<HistoryResult> {
  const exists = existsSync(input.dbPath);
  let history: History = { runs: [], resources: [] };
  if (exists) {
    const store = openAuditStore(input.dbPath, { redactor: input.redactor });
    try {
      history = await store.history({ slug: input.tenant, limit: input.limit });
    } finally {
      await store.close();
    }
  }
  return { database: input.dbPath, exists, history };
}
