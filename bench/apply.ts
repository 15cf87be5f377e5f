/**
 * `npm run bench:apply [-- --tenants N --scale K]`: create N tenants (default 200), each with 2
 * workspaces, against the emulators with rate limits enforced at K times the published rates
 * (default K = 5), and print the achieved rate of the tightest API beside the bound its limit
 * sets, in the same run. K = 5 keeps the emulator out of the way: at K = 10 moto (one Python
 * process) runs at 100% CPU and its answers slow from ~10 ms to ~130 ms, so the run then measures
 * moto rather than tenantform's pacing.
 *
 * The limits are enforced on both sides, scaled alike: the generated fleet.yaml's `budgets` are the
 * published ones with every refill rate × K (bursts as published), which is what tenantform paces
 * itself by; and the AWS proxy answers RequestLimitExceeded / ThrottlingException from the same
 * token buckets (the Cloudflare double from the same window), so a pacing bug shows up as
 * throttling rather than as speed. The tightest API is RunInstances (2/s, burst 5): N·3 launches
 * cannot take less than (N·3 − 5) / (2·K) seconds after the first one.
 *
 * Aim (issue): ≥ 90% of the bound, no throttling failure, no duplicate. Figures only; no assertions.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChangeSet } from '../src/apply/changeset.js';
import { loadFleet } from '../src/desired/load.js';
import { censusProblems, identitiesOf, takeCensus } from '../test/support/census.js';
import { fleetYaml, generatedTenants, writeTenant } from '../test/live/fleet.js';
import { budgetsYaml, enforceLimits, scaledBudgets } from './scaled-limits.js';
import { startBenchEmulators, type BenchEmulators } from './emulators.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const BIN = join(REPO_ROOT, 'bin', 'tenantform.js');
const ZONE = 'bench.example';
const APP_DOMAIN = `tenants.${ZONE}`;
const WORKSPACES_PER_TENANT = 2;
/** EC2 actions an apply of new tenants makes, each limited server-side by its own bucket. */
const EC2_ACTIONS = [
  'RunInstances',
  'CreateSecurityGroup',
  'AuthorizeSecurityGroupIngress',
  'DescribeInstances',
  'DescribeSecurityGroups',
  'DescribeImages',
  'DescribeVpcs',
];

function options(): { tenants: number; scale: number } {
  const { values } = parseArgs({ options: { tenants: { type: 'string' }, scale: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: npm run bench:apply -- [--tenants N (200)] [--scale K (5)]\n');
    process.exit(0);
  }
  const num = (name: string, raw: string | undefined, fallback: number) => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!(Number.isFinite(n) && n > 0)) {
      process.stderr.write(`bench:apply: --${name} must be a positive number, got '${raw}'\n`);
      process.exit(1);
    }
    return n;
  };
  return { tenants: Math.floor(num('tenants', values.tenants, 200)), scale: num('scale', values.scale, 5) };
}

function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  let done = 0;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr += text;
    // apply --json writes one {"event":"result",…} line per settled action: a progress count on a terminal.
    done += (text.match(/^\{"event":"result"/gm) ?? []).length;
    if (process.stderr.isTTY) process.stderr.write(`\r  ${done} actions finished`);
  });
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (process.stderr.isTTY) process.stderr.write('\n');
      resolvePromise({ code, stdout, stderr });
    });
  });
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const { tenants, scale } = options();
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const budgets = scaledBudgets(scale);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-apply-'));
  let emulators: BenchEmulators | undefined;
  try {
    writeFileSync(join(dir, 'fleet.yaml'), `${fleetYaml(APP_DOMAIN)}${budgetsYaml(budgets)}`);
    for (const t of generatedTenants(tenants, WORKSPACES_PER_TENANT)) writeTenant(dir, t);
    const loaded = await loadFleet(dir);
    if (!loaded.state) throw new Error(`the generated fleet does not load: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);

    emulators = await startBenchEmulators(ZONE);
    const { aws, cf, env } = emulators;
    enforceLimits(aws, cf, budgets, { ec2Actions: EC2_ACTIONS, ssm: false });
    const instances = tenants * (1 + WORKSPACES_PER_TENANT);
    process.stdout.write(
      `bench:apply — ${fmt(tenants)} tenants × ${WORKSPACES_PER_TENANT} workspaces (${fmt(instances)} instances), rate limits × ${scale} ` +
        `(RunInstances ${budgets.ec2.runInstances.perSecond}/s burst ${budgets.ec2.runInstances.burst}), enforced by tenantform and by the emulators\n`,
    );
    const started = Date.now();
    const res = await runCli(['apply', '--auto-approve', '--json', '--db', join(dir, 'audit.db')], dir, env);
    const elapsedMs = Date.now() - started;
    let changeSet: ChangeSet | undefined;
    try {
      changeSet = JSON.parse(res.stdout) as ChangeSet;
    } catch {
      process.stderr.write(`apply printed no change set (exit ${res.code}):\n${res.stderr.slice(-3000)}\n`);
    }

    // Census after the run, with the limits lifted so the reads are not throttled.
    aws.faults.clear();
    const problems = censusProblems(await takeCensus(aws.clients({ maxAttempts: 10 }), cf, loaded.state.fleet.environment), identitiesOf(loaded.state));
    const duplicates = problems.filter((p) => p.includes(' of them'));

    const launches = aws.calls.filter((c) => c.action === 'RunInstances' && c.status === 200).sort((a, b) => a.startedAt - b.startedAt);
    const throttled = aws.calls.filter((c) => c.fault === 'rateLimit');
    const throttledBy = new Map<string, number>();
    for (const c of throttled) throttledBy.set(c.action, (throttledBy.get(c.action) ?? 0) + 1);
    const cfThrottled = cf.requests.filter((r) => r.status === 429).length;
    const { perSecond, burst } = budgets.ec2.runInstances;
    const windowMs = launches.length > 1 ? launches.at(-1)!.startedAt - launches[0]!.startedAt : 0;
    const boundMs = (Math.max(0, launches.length - burst) / perSecond) * 1000;
    const achieved = windowMs > 0 ? (launches.length - burst) / (windowMs / 1000) : 0;
    const failed = changeSet?.results.filter((r) => r.status === 'failed').length;

    const rows: Array<[string, string]> = [
      ['apply exit code', String(res.code)],
      ['apply wall time', `${fmt(elapsedMs / 1000, 1)} s`],
      ['RunInstances calls (answered 200)', fmt(launches.length)],
      ['RunInstances window (first → last launch)', `${fmt(windowMs / 1000, 1)} s`],
      ['bound set by the limit: (launches − burst) / rate', `${fmt(boundMs / 1000, 1)} s   ((${launches.length} − ${burst}) / ${perSecond}/s)`],
      [
        'achieved RunInstances rate after the burst',
        `${fmt(achieved, 2)}/s   beside the limit ${perSecond}/s: ${fmt((achieved / perSecond) * 100, 1)}% of the bound (aim ≥ 90%)`,
      ],
      ['throttling answers (AWS)', `${fmt(throttled.length)}${throttled.length ? ` (${[...throttledBy].map(([a, n]) => `${a} ${n}`).join(', ')})` : ''}`],
      ['throttling answers (Cloudflare 429)', fmt(cfThrottled)],
      ['failed actions', failed === undefined ? 'unknown (no change set)' : fmt(failed)],
      ['duplicates (instance, group, secret, tunnel, record)', fmt(duplicates.length)],
      ['other census problems (missing or left over)', fmt(problems.length - duplicates.length)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    const errors = new Map<string, number>();
    for (const r of changeSet?.results ?? []) if (r.status === 'failed') errors.set(String(r.error), (errors.get(String(r.error)) ?? 0) + 1);
    for (const [e, n] of [...errors].slice(0, 5)) process.stdout.write(`    failed ×${n}: ${e}\n`);
    for (const p of problems.slice(0, 10)) process.stdout.write(`    - ${p}\n`);
    // Timing is only reported; a failed action, a duplicate or a leftover makes the run fail.
    if (res.code !== 0 || failed !== 0 || problems.length > 0) process.exitCode = 1;
  } finally {
    await emulators?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:apply: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
