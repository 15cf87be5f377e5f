/**
 * The history use case: the runs and resource lifecycle events in the audit store, newest first.
 * Read-only: a missing SQLite file is empty history and is not created. A PostgreSQL URL is
 * reported by its display form (password removed), never as given.
 */
import { existsSync } from 'node:fs';
import type { Redactor } from '../redact.js';
import type { History } from '../store/model.js';
import { openAuditStore } from '../store/open.js';
import { displayDbLocation, isDbUrl } from '../store/url.js';

export interface HistoryInput {
  /** A SQLite file path or a postgres:// URL. */
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
  const exists = isDbUrl(input.dbPath) || existsSync(input.dbPath);
  let history: History = { runs: [], resources: [] };
  if (exists) {
    const store = await openAuditStore(input.dbPath, { redactor: input.redactor });
    try {
      history = await store.history({ slug: input.tenant, limit: input.limit });
    } finally {
      await store.close();
    }
  }
  return { database: displayDbLocation(input.dbPath), exists, history };
}
