/**
 * `npm run bench:rollout [-- --tenants N --scale K]`: seed N emulated tenants (default 1,000, no
 * workspaces) with one apply, then change the fleet's image and apply again: N redeploys in the
 * fleet's waves (canaries, then `rollout.batches`). Prints, for the rollout apply:
 * - SendCommand calls beside the aim ⌈N/50⌉ + one per wave boundary (a wave never shares a
 *   command with the next), and beside the baseline of one command per instance;
 * - GetCommandInvocation calls (one per instance per poll; moto has no ListCommandInvocations);
 * - wall time per wave (from the progress events apply writes on stderr with --json);
 * - the estimate of time left the progress line showed when 10% of the redeploys were done
 *   (the first progress event at or past 10%), against the time the rest really took, and
 *   beside the budgets-only estimate at the same moment (the baseline the pace corrects).
 *
 * Rate limits as bench:apply: the published ones × K (default 5) in fleet.yaml's budgets, and the
 * same buckets enforced by the AWS proxy (SSM included) and the Cloudflare double. Figures only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChangeSet } from '../src/apply/changeset.js';
import { estimateRolloutMs, rolloutPrior } from '../src/render/eta.js';
import { fleetYaml, generatedTenants, writeTenant } from '../test/live/fleet.js';
import { budgetsYaml, enforceLimits, scaledBudgets } from './scaled-limits.js';
import { startBenchEmulators, type BenchEmulators } from './emulators.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const BIN = join(REPO_ROOT, 'bin', 'tenantform.js');
const ZONE = 'bench.example';
const APP_DOMAIN = `tenants.${ZONE}`;
const EC2_ACTIONS = [
  'RunInstances',
  'StartInstances',
  'CreateSecurityGroup',
  'AuthorizeSecurityGroupIngress',
  'DescribeInstances',
  'DescribeSecurityGroups',
  'DescribeImages',
  'DescribeVpcs',
];

function options(): { tenants: number; scale: number; seedScale: number; healthMs: number | undefined } {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string' },
      scale: { type: 'string' },
      'seed-scale': { type: 'string' },
      'health-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench:rollout -- [--tenants N (1000)] [--scale K (5)] [--seed-scale S (4)] [--health-ms MS (no health check)]\n');
    process.exit(0);
  }
  const num = (name: string, raw: string | undefined, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!(Number.isFinite(n) && n > 0)) {
      process.stderr.write(`bench:rollout: --${name} must be a positive number, got '${raw}'\n`);
      process.exit(1);
    }
    return n;
  };
  const healthMs = values['health-ms'] === undefined ? undefined : Number(values['health-ms']);
  if (healthMs !== undefined && !(Number.isFinite(healthMs) && healthMs >= 0)) {
    process.stderr.write(`bench:rollout: --health-ms must be a number of milliseconds, got '${values['health-ms']}'\n`);
    process.exit(1);
  }
  return {
    tenants: Math.floor(num('tenants', values.tenants, 1000)),
    scale: num('scale', values.scale, 5),
    seedScale: num('seed-scale', values['seed-scale'], 4),
    healthMs,
  };
}

interface Timed {
  at: number;
  event: Record<string, unknown> & { event: string };
}

function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; events: Timed[] }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
  let stdout = '';
  let partial = '';
  const events: Timed[] = [];
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    const at = Date.now();
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        events.push({ at, event: JSON.parse(l) as Timed['event'] });
      } catch {
        // not a progress line
      }
    }
  });
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('close', (code) => ok({ code, stdout, events }));
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const { tenants, scale, seedScale, healthMs } = options();
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const budgets = scaledBudgets(scale);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-rollout-'));
  let emulators: BenchEmulators | undefined;
  let health: Server | undefined;
  try {
    // The seed is set-up, not what is measured: it runs under the limits × seedScale (a tenant
    // create makes ~9 Cloudflare requests, so 1,000 of them would wait out Cloudflare's 5-minute
    // window); the rollout under the limits × scale, the budgets and the emulators' alike.
    const seedBudgets = scaledBudgets(scale * seedScale);
    writeFileSync(join(dir, 'fleet.yaml'), `${fleetYaml(APP_DOMAIN)}${budgetsYaml(seedBudgets)}`);
    for (const t of generatedTenants(tenants, 0)) writeTenant(dir, t);
    emulators = await startBenchEmulators(ZONE);
    const { aws, cf, env } = emulators;
    enforceLimits(aws, cf, seedBudgets, { ec2Actions: EC2_ACTIONS, ssm: true });
    const db = join(dir, 'audit.db');
    process.stdout.write(
      `bench:rollout — ${fmt(tenants)} tenants, rate limits × ${scale} (SSM ${budgets.ssm.perSecond}/s burst ${budgets.ssm.burst}, concurrency ${budgets.concurrency}), ${healthMs === undefined ? 'no health check' : `a health check answering after ${healthMs} ms`}; seed under × ${scale * seedScale}\n`,
    );
    const seedStart = Date.now();
    const seed = await runCli(['apply', '--auto-approve', '--json', '--db', db], dir, env);
    if (seed.code !== 0) throw new Error(`seeding apply exited ${seed.code}`);
    const seedS = (Date.now() - seedStart) / 1000;
    const cfSeed = cf.requests.length;
    const cfWindows = Math.ceil(cfSeed / budgets.cloudflare.requests);
    const runs = aws.calls.filter((c) => c.action === 'RunInstances' && c.status === 200).length;
    process.stdout.write(
      `  seeded in ${fmt(seedS, 1)} s: ${fmt(cfSeed)} Cloudflare requests (${fmt(cfSeed / tenants, 1)} per tenant: ≥ ${fmt((cfWindows - 1) * budgets.cloudflare.windowSeconds)} s under the rollout's ${fmt(budgets.cloudflare.requests)} per ${budgets.cloudflare.windowSeconds} s), ${fmt(runs)} RunInstances (≥ ${fmt(runs / budgets.ec2.runInstances.perSecond, 0)} s at its ${budgets.ec2.runInstances.perSecond}/s)\n`,
    );
    enforceLimits(aws, cf, budgets, { ec2Actions: EC2_ACTIONS, ssm: true });
    let healthCheck = '';
    if (healthMs !== undefined) {
      // Every tenant healthy, answering after healthMs: the gate's rounds are a serial cost per wave.
      const server = createServer((_req, res) => void setTimeout(() => res.end('ok'), healthMs));
      health = server;
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const port = (server.address() as AddressInfo).port;
      healthCheck = `  healthCheck: { url: "http://127.0.0.1:${port}/{slug}/healthz", timeoutSeconds: 60, intervalSeconds: 1 }\n`;
    }

    // The image change: every tenant redeploys (canaries to the canary image).
    const fleetFile = join(dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      `${fleetYaml(APP_DOMAIN)}${budgetsYaml(budgets)}`
        .replace(/^tenantImage: (.*):[^:\n]+$/m, 'tenantImage: $1:9.9.9')
        .replace(/^canaryTenantImage: (.*):[^:\n]+$/m, 'canaryTenantImage: $1:9.9.10-rc.1')
        .replace(/^( {2}maxFailureRatio: .*\n)/m, `$1${healthCheck}`),
    );
    const callsFrom = aws.calls.length;
    const started = Date.now();
    const res = await runCli(['apply', '--auto-approve', '--json', '--db', db], dir, env);
    const finished = Date.now();
    const calls = aws.calls.slice(callsFrom);
    const cs = JSON.parse(res.stdout) as ChangeSet;
    const redeploys = cs.results.filter((r) => r.kind === 'redeploy');
    const sends = calls.filter((c) => c.action === 'SendCommand' && c.status === 200).length;
    const polls = calls.filter((c) => c.action === 'GetCommandInvocation').length;
    const throttled = calls.filter((c) => c.fault === 'rateLimit').length;
    const waves = res.events.filter((e) => e.event.event === 'waveFinished') as Array<{
      at: number;
      event: { result: { wave: number; actions: number; failed: number }; durationMs: number } & Timed['event'];
    }>;
    const planned = res.events.find((e) => e.event.event === 'rolloutPlanned')?.event as { waves: Array<{ actions: number }> } | undefined;
    const total = planned?.waves.reduce((s, w) => s + w.actions, 0) ?? redeploys.length;
    const progress = res.events.filter((e) => e.event.event === 'progress' && e.event.phase === 'rollout');
    const atTen = progress.find((e) => (e.event.done as number) >= total * 0.1);

    const rows: Array<[string, string]> = [
      ['apply exit code', String(res.code)],
      [
        'redeploys (ok / failed / skipped)',
        `${redeploys.filter((r) => r.status === 'ok').length} / ${redeploys.filter((r) => r.status === 'failed').length} / ${redeploys.filter((r) => r.status === 'skipped').length}`,
      ],
      ['rollout wall time', `${fmt((finished - started) / 1000, 1)} s (the whole apply, observe and plan included)`],
      [
        'SendCommand calls',
        `${fmt(sends)}   aim ≤ ⌈N/50⌉ + wave boundaries = ${Math.ceil(total / 50)} + ${Math.max(0, waves.length - 1)} = ${Math.ceil(total / 50) + Math.max(0, waves.length - 1)}; baseline one per instance = ${fmt(total)}`,
      ],
      ['GetCommandInvocation calls', `${fmt(polls)}   (${fmt(polls / Math.max(1, total), 2)} per instance)`],
      [
        'throttling answers (AWS)',
        `${fmt(throttled)}${throttled ? `   (${[...new Set(calls.filter((c) => c.fault === 'rateLimit').map((c) => c.action))].map((a) => `${a} ${calls.filter((c) => c.fault === 'rateLimit' && c.action === a).length}`).join(', ')}: retried)` : ''}`,
      ],
    ];
    const startedAt = res.events.filter((e) => e.event.event === 'waveStarted');
    const gates = res.events.filter((e) => e.event.event === 'waveChecking');
    waves.forEach((w, i) => {
      const from = startedAt[i]?.at ?? started;
      const inWave = calls.filter((c) => c.startedAt >= from && c.startedAt <= w.at);
      const gate = gates.find((g) => g.event.wave === w.event.result.wave);
      rows.push([
        `wave ${w.event.result.wave} (${fmt(w.event.result.actions)} tenants)`,
        `${fmt(w.event.durationMs / 1000, 1)} s${gate ? ` (gate ${fmt((w.at - gate.at) / 1000, 1)} s)` : ''}, ${w.event.result.failed} failed; ${inWave.filter((c) => c.action === 'SendCommand').length} SendCommand (⌈N/50⌉ = ${Math.ceil(w.event.result.actions / 50)}), ${fmt(inWave.filter((c) => c.action === 'GetCommandInvocation').length)} GetCommandInvocation`,
      ]);
    });
    if (atTen) {
      const shown = atTen.event.etaMs as number;
      const real = finished - atTen.at;
      const done = atTen.event.done as number;
      // The same moment as the budgets alone see it: the running wave by its age, the rest by their sizes.
      const begun = startedAt.filter((e) => e.at <= atTen.at).length;
      const sizes = (planned?.waves ?? []).map((w) => w.actions);
      const budgetsOnly = estimateRolloutMs({
        finished: [],
        current: begun > 0 ? { actions: sizes[begun - 1]!, elapsedMs: atTen.at - startedAt[begun - 1]!.at } : undefined,
        pending: sizes.slice(begun),
        prior: rolloutPrior(budgets),
      });
      rows.push(
        [`ETA shown at ${fmt((done / total) * 100, 1)}% done (first progress ≥ 10%)`, `${fmt(shown / 1000, 1)} s`],
        ['time the rest really took', `${fmt(real / 1000, 1)} s   → error ${fmt(((shown - real) / Math.max(1, real)) * 100, 1)}% (aim within 20%)`],
        ['baseline: budgets-only estimate at the same moment', `${fmt(budgetsOnly / 1000, 1)} s   → error ${fmt(((budgetsOnly - real) / Math.max(1, real)) * 100, 1)}%`],
      );
    } else rows.push(['ETA at 10% done', 'no progress event at or past 10% (see the change set)']);
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    if (res.code !== 0) process.exitCode = 1;
  } finally {
    await emulators?.close();
    await new Promise((ok) => (health ? health.close(ok) : ok(undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:rollout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
