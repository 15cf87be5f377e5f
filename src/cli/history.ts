/**
 * `tenantform history`: the runs and resource lifecycle events in the audit store, newest first.
 * Read-only: a missing database is reported as empty history and is not created.
 */
import { readHistory } from '../app/history.js';
import { ExitCode } from '../errors.js';
import { redactor } from '../redact.js';
import type { History, ResourceRecord, RunAbandonment, RunRecord } from '../store/model.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, dbFile, parsePositiveInt } from './options.js';

interface HistoryFlags {
  tenant?: string;
  json?: boolean;
  db?: string;
  repo?: string;
  limit: number;
}

const DEFAULT_LIMIT = 50;

export const historyCommand: CommandModule = {
  register(program, io, done) {
    const cmd = program
      .command('history')
      .description('show recorded runs and resource lifecycle events (newest first)')
      .option('--tenant <slug>', 'only events for this tenant, and the runs that recorded them')
      .option('--json', 'print JSON')
      .option('--limit <n>', 'at most this many runs and this many events', (v) => parsePositiveInt('--limit', v), DEFAULT_LIMIT);
    addDbOption(cmd);
    addRepoOption(cmd);
    cmd.action(async (flags: HistoryFlags) => done(await runHistory(io, flags)));
  },
};

async function runHistory(io: Io, flags: HistoryFlags): Promise<number> {
  const { database, exists, history } = await readHistory({ dbPath: dbFile(io, flags, redactor), tenant: flags.tenant, limit: flags.limit, redactor });
  if (flags.json) {
    io.stdout(`${JSON.stringify({ database, ...history }, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (!exists) {
    io.stdout(`No audit database at ${database} yet: nothing has been recorded.\n`);
    return ExitCode.ok;
  }
  io.stdout(renderHistory(history, flags.tenant));
  return ExitCode.ok;
}

export function renderHistory(history: History, tenant: string | undefined): string {
  const scope = tenant ? ` for tenant ${tenant}` : '';
  const parts: string[] = [];
  parts.push(`Runs${scope} (newest first)\n`);
  parts.push(history.runs.length === 0 ? '  none\n' : table(['STARTED', 'RUN', 'COMMAND', 'ENV', 'STATUS', 'EXIT', 'COMMIT', 'HOST'], history.runs.map(runRow)));
  for (const r of history.runs) if (r.abandoned) parts.push(abandonedLine(r, r.abandoned));
  parts.push(`\nResource events${scope} (newest first)\n`);
  parts.push(
    history.resources.length === 0 ? '  none\n' : table(['TIME', 'STATE', 'KIND', 'RESOURCE', 'TENANT', 'ORG', 'WORKSPACE', 'RUN'], history.resources.map(resourceRow)),
  );
  return parts.join('');
}

function runRow(r: RunRecord): string[] {
  return [r.startedAt, r.runId, r.command, r.environment, r.status, r.exitCode === undefined ? '-' : String(r.exitCode), short(r.gitCommit), `${r.host}:${r.pid}`];
}

/** A dead run never records its end; the run that reclaimed its lease did, and this says so. */
function abandonedLine(r: RunRecord, a: RunAbandonment): string {
  const why = a.reason === 'expired' ? 'its lease expired' : `its process (pid ${r.pid} on ${r.host}) was gone`;
  const finished = r.status === 'abandoned' ? '' : ` (it finished later as ${r.status})`;
  return `  run ${r.runId} abandoned at ${a.at}: ${why}; lease reclaimed by run ${a.byRunId}${finished}\n`;
}

function resourceRow(r: ResourceRecord): string[] {
  return [r.at, r.state, r.kind, r.resourceId, r.slug, r.orgId, r.workspaceId ?? '-', r.runId];
}

function short(commit: string | undefined): string {
  return commit ? commit.slice(0, 12) : '-';
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  return [headers, ...rows].map(line).join('');
}
