/**
 * serve's resident memory over 100 scheduled jobs against the emulators (moto behind the fault
 * proxy, the Cloudflare double): plan, drift and a sweep dry run in turn, fired through serve's
 * scheduler as cron would, each after fetching the fleet repository. Prints RSS at job 1, 50 and
 * 100 beside a baseline: the peak RSS of one `tenantform plan` CLI process on the same world.
 * Aim: flat, under 150 MB. `npm run bench:serve` (builds dist/ first for the baseline).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startServeWorld } from '../test/serve/serve-world.js';

const JOBS = Number(process.env.BENCH_SERVE_JOBS ?? 100);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const w = await startServeWorld({ schedules: 'schedules:\n  plan: "*/5 * * * *"\n  drift: "*/5 * * * *"\n  sweep: "*/5 * * * *"\n' });
try {
  const bin = resolve(import.meta.dirname, '../bin/tenantform.js');
  const timed = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'plan', '--repo', w.world.dir], {
    env: { PATH: process.env.PATH ?? '', ...w.world.env },
    encoding: 'utf8',
  });
  const baselineKb = Number(timed.stderr.trim().split('\n').pop());
  const rss: Record<number, number> = {};
  const started = Date.now();
  const order = ['plan', 'drift', 'sweep'] as const;
  for (let i = 1; i <= JOBS; i++) {
    await w.serve.fire(order[(i - 1) % order.length]!);
    if (i === 1 || i === Math.ceil(JOBS / 2) || i === JOBS) rss[i] = process.memoryUsage().rss;
  }
  const failed = Object.values(w.serve.last).filter((o) => o.result === 'failed' || o.result === 'interrupted');
  console.log(`serve: ${JOBS} jobs (plan, drift, sweep dry run in turn; 4 tenants) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`baseline: one \`tenantform plan\` CLI process, peak RSS ${mb(baselineKb * 1024)}`);
  for (const [job, bytes] of Object.entries(rss)) console.log(`serve RSS after job ${job}: ${mb(bytes)}`);
  if (failed.length) console.log(`warning: last outcomes failed: ${failed.map((o) => `${o.job}: ${o.message}`).join('; ')}`);
} finally {
  await w.stop();
}
