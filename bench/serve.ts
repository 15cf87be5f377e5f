/**
 * `npm run bench:serve`: the resident memory of a real `tenantform serve` process over 100
 * scheduled jobs against the emulators (moto behind the fault proxy and the Cloudflare double, both
 * answered from this process). The fleet (the example tenants) is applied first, then serve runs as
 * a child with six-field cron schedules that fire plan, drift and a sweep dry run one second apart,
 * each job after fetching the fleet repository, exactly as cron would in production.
 *
 * Prints the child's RSS (and its peak so far) after job 1, 50 and 100, beside two baselines
 * measured in the same run: the peak RSS of one `tenantform plan` CLI process on the same world,
 * and of a node process that only loads the SDK clients serve holds (the floor any of our
 * processes starts from). Aim: flat, under 150 MB. Figures only, no assertion.
 *
 * Every child is spawned asynchronously: the fault proxy and the double answer from this process's
 * event loop, so a synchronous spawn would wait on a child that waits on us.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseMetrics, startServeRepo } from '../test/serve/serve-world.js';

const JOBS = Number(process.env.BENCH_SERVE_JOBS ?? 100);
const BIN = resolve(import.meta.dirname, '../bin/tenantform.js');
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const REPORT_PEAK = 'data:text/javascript,process.on("exit",()=>process.stderr.write("peak-rss-kb:"+process.resourceUsage().maxRSS+"\\n"))';
const SDK_ONLY = ['@aws-sdk/client-ec2', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-ssm', '@aws-sdk/client-iam', '@aws-sdk/client-service-quotas', 'cloudflare']
  .map((m) => `await import(${JSON.stringify(m)});`)
  .join('');

const schedules = 'schedules:\n  plan: "0-59/3 * * * * *"\n  drift: "1-59/3 * * * * *"\n  sweep: "2-59/3 * * * * *"\n';
const { world } = await startServeRepo(schedules);
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...world.env };
let serve: ChildProcess | undefined;
try {
  const applied = await world.run(['apply', '--auto-approve']);
  if (applied.code !== 0) throw new Error(`seeding apply exited ${applied.code}: ${applied.stderr.slice(-500)}`);
  const tenants = readdirSync(join(world.dir, 'tenants')).length;

  const planPeakKb = await peakRssKb([BIN, 'plan', '--repo', world.dir], env);
  const sdkPeakKb = await peakRssKb(['--input-type=module', '-e', SDK_ONLY], env);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  serve = spawn(process.execPath, [BIN, 'serve', '--repo', world.dir, '--db', world.db, '--listen', `127.0.0.1:${port}`], {
    cwd: world.dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serveErr = '';
  serve.stderr!.on('data', (chunk: Buffer) => (serveErr = (serveErr + chunk.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) => serve!.on('exit', (code) => reject(new Error(`serve exited ${code}: ${serveErr}`))));

  const marks = new Set([1, Math.ceil(JOBS / 2), JOBS]);
  const rows: string[] = [];
  const started = Date.now();
  let done = 0;
  let last = { ok: 0, failed: 0, skipped: 0 };
  while (done < JOBS) {
    await Promise.race([sleep(200), exited]);
    last = await jobCounts(url).catch(() => last);
    const now = last.ok + last.failed;
    if (now === done) continue;
    for (let n = done + 1; n <= now; n++) {
      if (!marks.has(n)) continue;
      const { rss, hwm } = procMemory(serve.pid!);
      rows.push(`serve RSS after job ${n}: ${mb(rss)} (peak so far ${mb(hwm)})`);
    }
    done = now;
  }
  console.log(
    `serve: ${done} jobs (plan, drift, sweep dry run in turn, each after a fetch; ${tenants} applied tenants) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`  ${last.ok} ok, ${last.failed} failed, ${last.skipped} skipped (the previous job still running)`);
  console.log(`baseline: one \`tenantform plan\` CLI process, peak RSS ${mb(planPeakKb)}`);
  console.log(`baseline: node loading only the SDK clients serve holds, peak RSS ${mb(sdkPeakKb)}`);
  for (const row of rows) console.log(row);
  if (last.failed) console.log(`warning: ${last.failed} jobs failed; serve's stderr ends: ${serveErr.slice(-800)}`);
} finally {
  serve?.kill('SIGTERM');
  if (serve && serve.exitCode === null) await new Promise((r) => serve!.once('exit', r));
  await world.close();
}

/** Completed jobs from serve's own counter, tenantform_runs_total by result. */
async function jobCounts(url: string): Promise<{ ok: number; failed: number; skipped: number }> {
  const res = await fetch(`${url}/metrics`);
  const series = parseMetrics(await res.text());
  const counts = { ok: 0, failed: 0, skipped: 0 };
  for (const [key, value] of series) {
    if (!key.startsWith('tenantform_runs_total{')) continue;
    const result = /result="([^"]+)"/.exec(key)?.[1];
    if (result === 'skipped') counts.skipped += value;
    else if (result === 'failed' || result === 'interrupted') counts.failed += value;
    else counts.ok += value;
  }
  return counts;
}

/** Current and peak resident set of a process, in KiB (Linux /proc). */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Peak RSS (KiB) of a node child, read from its own resourceUsage() as it exits. */
function peakRssKb(args: string[], childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePeak, reject) => {
    const child = spawn(process.execPath, ['--import', REPORT_PEAK, ...args], {
      env: childEnv,
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = /peak-rss-kb:(\d+)/.exec(stderr)?.[1];
      if (kb) resolvePeak(Number(kb));
      else reject(new Error(`baseline child exited ${code} without reporting its RSS: ${stderr.slice(-500)}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
