/** The `runs` table on PostgreSQL. */
import { InternalError } from '../../errors.js';
import type { FinishRunInput, RunRecord, StartRunInput } from '../model.js';
import { isoNow, json, optText, query, text, type PgContext } from './context.js';
import { toRun, type RunRow } from './rows.js';

export async function startRun(ctx: PgContext, input: StartRunInput): Promise<RunRecord> {
  const r = (s: string) => text(ctx, s);
  const res = await query<RunRow>(
    ctx,
    ctx.pool,
    'start run',
    input.runId,
    `INSERT INTO runs (run_id, command, environment, git_commit, started_at, status, host, pid)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7) RETURNING *`,
    [r(input.runId), r(input.command), r(input.environment), optText(ctx, input.gitCommit), isoNow(ctx), r(input.host), input.pid],
  );
  return toRun(res.rows[0]!);
}

export async function finishRun(ctx: PgContext, input: FinishRunInput): Promise<RunRecord> {
  const res = await query<RunRow>(
    ctx,
    ctx.pool,
    'finish run',
    input.runId,
    `UPDATE runs SET finished_at = $1, status = $2, exit_code = $3, summary = $4 WHERE run_id = $5 RETURNING *`,
    [isoNow(ctx), input.status, input.exitCode, json(ctx, input.summary), text(ctx, input.runId)],
  );
  if (res.rowCount !== 1) throw new InternalError('no such run', { operation: 'finish run', resource: text(ctx, input.runId) });
  return toRun(res.rows[0]!);
}
