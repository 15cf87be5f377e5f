/**
 * `npm run bench:plan` — what a plan costs, in one run:
 *
 * (a) API calls by service for a full `tenantform plan` of a seeded fleet (default 1,000 tenants ×
 *     5 workspaces) on moto (with bench/moto-tag-index, a speed-only patch) and the Cloudflare double, beside a per-resource-refresh baseline on
 *     the same fleet: one read per live resource, the way Terraform refreshes (instance, root
 *     volume, security group, secret, tunnel, tunnel configuration, DNS record). The baseline's
 *     count is exact; a sample of it is also run to show its time on the same emulators, and its
 *     floor at the published rate limits is computed (notes/limits.md).
 * (b) planner time and peak memory on a synthetic 10,000 × 5 inventory (bench/planner.ts, in a
 *     child process so its peak memory is its own).
 * (c) calls for a one-tenant `--changed-since` plan in the seeded fleet.
 *
 * Aims (issue 4): (a) ≤ 40 calls and ≥ 100× fewer than the baseline; (b) < 1 s, < 400 MB;
 * (c) ≤ 12 calls. BENCH_TENANTS / BENCH_WORKSPACES change the seeded fleet's size.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateSubnetCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import Cloudflare from 'cloudflare';
import pLimit from 'p-limit';
import { memoryIo } from '../src/cli/io.js';
import { runPlan, type PlanRun } from '../src/cli/plan.js';
import { loadFleet } from '../src/desired/load.js';
import { startAwsEmulator } from '../test/support/aws.js';
import { startMotoServer } from '../test/support/moto.js';
import { startCloudflareDouble } from '../test/support/cloudflare-double/index.js';
import { commitAll, generatedTenants, seedSpec, writeFleet, writeTenant } from '../test/live/fleet.js';
import { seedTenant, type SeedTarget } from '../test/live/seed.js';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000);
const WORKSPACES = Number(process.env.BENCH_WORKSPACES ?? 5);
const SEED_CONCURRENCY = 24;
const BASELINE_SAMPLE = 200;
const ZONE = 'example.test';
const APP_DOMAIN = `apps.${ZONE}`;

const fmt = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Calls seen by the emulators (the wire truth) while `run` ran, by service. */
async function countCalls<T>(
  aws: { calls: { service: string }[] },
  cf: { requests: unknown[] },
  run: () => Promise<T>,
): Promise<{ result: T; byService: Record<string, number>; total: number }> {
  const awsBefore = aws.calls.length;
  const cfBefore = cf.requests.length;
  const result = await run();
  const byService: Record<string, number> = {};
  for (const c of aws.calls.slice(awsBefore)) byService[c.service] = (byService[c.service] ?? 0) + 1;
  byService.cloudflare = cf.requests.length - cfBefore;
  return { result, byService, total: Object.values(byService).reduce((a, b) => a + b, 0) };
}

function line(label: string, byService: Record<string, number>, total: number): string {
  const parts = Object.entries(byService)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${fmt(n)}`)
    .join(', ');
  return `  ${label.padEnd(28)} ${fmt(total).padStart(7)} calls  (${parts})`;
}

async function main(): Promise<void> {
  const started = performance.now();
  // moto's per-resource EC2 tag lookup scans every tag in the account; bench/moto-tag-index makes it
  // a direct lookup so a 6,000-instance fleet can be listed at all (answers and call counts unchanged).
  process.env.PYTHONPATH = [resolve(import.meta.dirname, 'moto-tag-index'), process.env.PYTHONPATH].filter(Boolean).join(':');
  const moto = await startMotoServer();
  const [aws, cf] = await Promise.all([
    startAwsEmulator({ moto }),
    // The seeding alone is thousands of requests: lift the double's 1,200/5 min limit for this run.
    startCloudflareDouble({ zoneName: ZONE, rateLimit: { requests: 10_000_000, windowSeconds: 300 } }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-plan-'));
  try {
    const clients = aws.clients();
    // The harness's /24 subnet runs out of private addresses after ~250 instances (moto then answers 500).
    const subnet = await clients.ec2.send(new CreateSubnetCommand({ VpcId: aws.seed.vpcId, CidrBlock: '10.20.128.0/17' }));
    const target: SeedTarget = {
      env: 'dev',
      ec2: clients.ec2,
      secrets: clients.secrets,
      cloudflare: { client: new Cloudflare({ apiToken: cf.apiToken, baseURL: cf.baseURL, maxRetries: 0 }), accountId: cf.accountId, zoneId: cf.zoneId },
      vpcId: aws.seed.vpcId,
      subnetId: subnet.Subnet!.SubnetId!,
      appDomain: APP_DOMAIN,
    };
    const env = { ...aws.env, ...cf.env, APP_DOMAIN };

    // The fleet repository, committed, and its desired state seeded as fully provisioned.
    const tenants = generatedTenants(TENANTS, WORKSPACES);
    writeFleet(dir, APP_DOMAIN, tenants);
    const base = await commitAll(dir, 'fleet');
    const { state } = await loadFleet(dir, { env });
    if (!state) throw new Error('the generated fleet does not load');
    const seedStart = performance.now();
    const limit = pLimit(SEED_CONCURRENCY);
    let done = 0;
    const seeded = await Promise.all(
      state.tenants.map((t) =>
        limit(async () => {
          const s = await seedTenant(target, seedSpec(t));
          if (++done % 100 === 0) process.stderr.write(`  seeded ${done}/${TENANTS} tenants (${secs(performance.now() - seedStart)})\n`);
          return s;
        }),
      ),
    );
    const seedMs = performance.now() - seedStart;
    const instances = seeded.flatMap((s) => [s.instanceId!, ...Object.values(s.workspaces).map((w) => w.instanceId!)]);

    console.log(`bench:plan — ${fmt(TENANTS)} tenants × ${WORKSPACES} workspaces seeded in ${secs(seedMs)} on moto + the Cloudflare double`);
    console.log('');

    // (a) a full plan, counted on the wire.
    const io = memoryIo({ env, cwd: dir });
    const planStart = performance.now();
    const full = await countCalls(aws, cf, () => runPlan(io, { json: true }));
    const planMs = performance.now() - planStart;
    const run: PlanRun = full.result;
    if (run.code !== 0) throw new Error(`a fully provisioned fleet should plan no changes (exit ${run.code}): ${io.err.join('')}`);

    const liveInstances = instances.length;
    const baseline: Record<string, number> = {
      'ec2 DescribeInstances': liveInstances,
      'ec2 DescribeVolumes': liveInstances,
      'ec2 DescribeSecurityGroups': liveInstances,
      'secretsmanager DescribeSecret': TENANTS,
      'cloudflare tunnel GET': TENANTS,
      'cloudflare tunnel configuration GET': TENANTS,
      'cloudflare DNS record GET': TENANTS,
    };
    const baselineTotal = Object.values(baseline).reduce((a, b) => a + b, 0);
    const baselineByService: Record<string, number> = {};
    for (const [k, n] of Object.entries(baseline)) {
      const svc = k.split(' ')[0]!;
      baselineByService[svc] = (baselineByService[svc] ?? 0) + n;
    }

    // A sample of the baseline, run for real: DescribeInstances by id, one instance per call.
    const sampleIds = instances.slice(0, BASELINE_SAMPLE);
    const sampleStart = performance.now();
    const sampleLimit = pLimit(10); // Terraform's default -parallelism
    await Promise.all(sampleIds.map((id) => sampleLimit(() => clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })))));
    const sampleMs = performance.now() - sampleStart;
    const perRead = sampleMs / sampleIds.length;

    // Floors at the published limits: EC2 non-mutating 100 burst then 20/s per API; Cloudflare 1,200 per 5 min.
    const ec2Floor = Math.max(0, liveInstances - 100) / 20;
    const cfReads = baseline['cloudflare tunnel GET']! + baseline['cloudflare tunnel configuration GET']! + baseline['cloudflare DNS record GET']!;
    const cfFloor = Math.max(0, cfReads - 1200) / 4;

    console.log('(a) API calls for a full plan');
    console.log(line('tenantform plan', full.byService, full.total));
    console.log(line('per-resource refresh', baselineByService, baselineTotal));
    for (const [k, n] of Object.entries(baseline)) console.log(`      ${k.padEnd(40)} ${fmt(n)}`);
    console.log(`  ratio                        ${(baselineTotal / full.total).toFixed(0)}× fewer calls (aim ≥ 100×; aim ≤ 40 calls)`);
    console.log(`  plan wall time               ${secs(planMs)} (load ${fmt(TENANTS)} tenant files, observe, diff, render)`);
    console.log(
      `  baseline sample              ${BASELINE_SAMPLE} DescribeInstances-by-id at parallelism 10: ${secs(sampleMs)} ` +
        `→ ~${secs(perRead * baselineTotal)} for all ${fmt(baselineTotal)} reads at this emulator's speed`,
    );
    console.log(
      `  baseline at published limits EC2 DescribeInstances alone ≥ ${secs(ec2Floor * 1000)}; ` +
        `Cloudflare ${fmt(cfReads)} reads ≥ ${secs(cfFloor * 1000)} (1,200 per 5 min)`,
    );
    console.log('');

    // (b) the planner on a synthetic 10,000 × 5 inventory, in its own process.
    console.log('(b) planner on a synthetic inventory');
    const planner = spawnSync(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'planner.ts')], { encoding: 'utf8' });
    const plannerOut = (planner.stdout || planner.stderr || 'bench/planner.ts printed nothing').trimEnd();
    console.log(
      plannerOut
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    console.log('');

    // (c) a pull request touching one tenant: one workspace added.
    const touched = tenants[Math.floor(TENANTS / 2)]!;
    writeTenant(dir, { ...touched, workspaces: [...touched.workspaces, { name: 'added', id: '0c0c0c0c-0000-4000-8000-000000000001', runtime: 'hermes', tier: 'T4' }] });
    const scopedIo = memoryIo({ env, cwd: dir });
    const scoped = await countCalls(aws, cf, () => runPlan(scopedIo, { json: true, changedSince: base }));
    const actions = scoped.result.plan?.actions.map((a) => `${a.kind} ${a.target.slug}/${a.target.workspaceName ?? ''}`).join(', ');
    console.log(`(c) one-tenant --changed-since plan (${touched.slug}: one workspace added → ${actions}; exit ${scoped.result.code})`);
    console.log(line('tenantform plan --changed-since', scoped.byService, scoped.total));
    console.log(`      (aim ≤ 12 calls)`);
    console.log('');
    console.log(`total bench time ${secs(performance.now() - started)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([aws.close(), cf.close()]);
    moto.stop();
  }
}

await main();
