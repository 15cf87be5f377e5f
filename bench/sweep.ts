/**
 * `npm run bench:sweep` — what a sweep costs beside a plan, in one run, on one seeded fleet
 * (default 1,000 tenants × 5 workspaces, as bench:plan seeds, on moto with bench/moto-tag-index
 * and the Cloudflare double) with a sprinkling of orphans: a few whole tenants the repository no
 * longer declares and a few spare security groups of declared tenants.
 *
 * (a) API calls of a full `tenantform plan` and of a full `tenantform sweep` (dry run), counted on
 *     the wire. Aim: equal, ≤ 40 (the sweep reads the same inventory).
 * (b) `sweep --delete --min-age 0s`: the same list calls plus only the deletes (and their waits).
 * (c) drift: figures from the drift helper go here (see DRIFT below).
 *
 * BENCH_TENANTS / BENCH_WORKSPACES / BENCH_ORPHANS change the fleet's size and the sprinkling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateSubnetCommand } from '@aws-sdk/client-ec2';
import Cloudflare from 'cloudflare';
import pLimit from 'p-limit';
import { baseTags } from '../src/contract.js';
import { memoryIo } from '../src/cli/io.js';
import { runPlan } from '../src/cli/plan.js';
import { runSweep } from '../src/cli/sweep.js';
import { loadFleet } from '../src/desired/load.js';
import type { SweepReport } from '../src/sweep/model.js';
import { startAwsEmulator } from '../test/support/aws.js';
import { startMotoServer } from '../test/support/moto.js';
import { startCloudflareDouble } from '../test/support/cloudflare-double/index.js';
import { commitAll, generatedTenants, seedSpec, writeFleet } from '../test/live/fleet.js';
import { seedSecurityGroup, seedTenant, type SeedTarget } from '../test/live/seed.js';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000);
const WORKSPACES = Number(process.env.BENCH_WORKSPACES ?? 5);
const ORPHANS = Number(process.env.BENCH_ORPHANS ?? 3);
const SEED_CONCURRENCY = 24;
const ZONE = 'example.test';
const APP_DOMAIN = `apps.${ZONE}`;

const fmt = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function countCalls<T>(
  aws: { calls: { service: string; mutating?: boolean }[] },
  cf: { requests: Array<{ method: string }> },
  run: () => Promise<T>,
): Promise<{ result: T; byService: Record<string, number>; total: number; mutating: number }> {
  const awsBefore = aws.calls.length;
  const cfBefore = cf.requests.length;
  const result = await run();
  const byService: Record<string, number> = {};
  const awsCalls = aws.calls.slice(awsBefore);
  for (const c of awsCalls) byService[c.service] = (byService[c.service] ?? 0) + 1;
  const cfCalls = cf.requests.slice(cfBefore);
  byService.cloudflare = cfCalls.length;
  const mutating = awsCalls.filter((c) => c.mutating).length + cfCalls.filter((r) => r.method !== 'GET').length;
  return { result, byService, total: Object.values(byService).reduce((a, b) => a + b, 0), mutating };
}

function line(label: string, byService: Record<string, number>, total: number): string {
  const parts = Object.entries(byService)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${fmt(n)}`)
    .join(', ');
  return `  ${label.padEnd(34)} ${fmt(total).padStart(7)} calls  (${parts})`;
}

async function main(): Promise<void> {
  const started = performance.now();
  process.env.PYTHONPATH = [resolve(import.meta.dirname, 'moto-tag-index'), process.env.PYTHONPATH].filter(Boolean).join(':');
  const moto = await startMotoServer();
  const [aws, cf] = await Promise.all([startAwsEmulator({ moto }), startCloudflareDouble({ zoneName: ZONE, rateLimit: { requests: 10_000_000, windowSeconds: 300 } })]);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-sweep-'));
  const db = join(mkdtempSync(join(tmpdir(), 'tenantform-bench-sweep-db-')), 'state.db');
  try {
    const clients = aws.clients();
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

    // Seed TENANTS + ORPHANS tenants fully provisioned, then declare only TENANTS of them.
    const all = generatedTenants(TENANTS + ORPHANS, WORKSPACES);
    writeFleet(dir, APP_DOMAIN, all);
    const { state } = await loadFleet(dir, { env });
    if (!state) throw new Error('the generated fleet does not load');
    const seedStart = performance.now();
    const limit = pLimit(SEED_CONCURRENCY);
    let done = 0;
    await Promise.all(
      state.tenants.map((t) =>
        limit(async () => {
          await seedTenant(target, seedSpec(t));
          if (++done % 100 === 0) process.stderr.write(`  seeded ${done}/${TENANTS + ORPHANS} tenants (${secs(performance.now() - seedStart)})\n`);
        }),
      ),
    );
    // Spare groups of declared tenants that no instance uses.
    for (const t of all.slice(0, ORPHANS)) await seedSecurityGroup(target, `spare-${t.slug}`, baseTags('dev', 'tenant', t.orgId, t.slug));
    rmSync(join(dir, 'tenants'), { recursive: true, force: true });
    writeFleet(dir, APP_DOMAIN, all.slice(0, TENANTS));
    await commitAll(dir, 'fleet');
    const seedMs = performance.now() - seedStart;

    console.log(
      `bench:sweep — ${fmt(TENANTS)} tenants × ${WORKSPACES} workspaces (+ ${ORPHANS} undeclared tenants, ${ORPHANS} spare groups) seeded in ${secs(seedMs)} on moto + the Cloudflare double`,
    );
    console.log('');

    // (a) a full plan and a full dry-run sweep of the same fleet.
    const planIo = memoryIo({ env, cwd: dir });
    const planStart = performance.now();
    const plan = await countCalls(aws, cf, () => runPlan(planIo, { json: true, allowDeletes: String(ORPHANS + 1) }));
    const planMs = performance.now() - planStart;
    const dryIo = memoryIo({ env, cwd: dir });
    const dryStart = performance.now();
    const dry = await countCalls(aws, cf, () => runSweep(dryIo, { json: true, minAge: '0s', db }));
    const dryMs = performance.now() - dryStart;
    const dryReport = dry.result.report as SweepReport | undefined;
    if (!dryReport) throw new Error(`the sweep failed (exit ${dry.result.code}): ${dryIo.err.join('')}`);

    console.log('(a) API calls: a full plan beside a full sweep (dry run), same fleet, same run');
    console.log(line(`tenantform plan (exit ${plan.result.code})`, plan.byService, plan.total));
    console.log(line(`tenantform sweep (exit ${dry.result.code})`, dry.byService, dry.total));
    console.log(
      `  sweep found                        ${dryReport.summary.orphans} orphans (${dryReport.summary.orphanedTenants} orphaned tenants), ${dry.mutating} mutating calls`,
    );
    console.log(`  wall time                          plan ${secs(planMs)}, sweep ${secs(dryMs)}   (aim: sweep calls = plan calls, ≤ 40)`);
    console.log('');

    // (b) the same sweep with --delete: the list calls again, plus only the deletes.
    // Deleting reads the provisioning wiring, as apply does.
    const delIo = memoryIo({ env: { ...env, SECRETS_ENCRYPTION_KEY: 'bench-encryption-key-0123456789abcdef' }, cwd: dir });
    const delStart = performance.now();
    const del = await countCalls(aws, cf, () => runSweep(delIo, { json: true, minAge: '0s', db, delete: true, allowDeletes: String(ORPHANS + 1) }));
    const delMs = performance.now() - delStart;
    const delReport = del.result.report as SweepReport | undefined;
    if (!delReport) throw new Error(`the sweep --delete failed (exit ${del.result.code}): ${delIo.err.join('')}`);
    console.log('(b) sweep --delete --min-age 0s');
    console.log(line(`tenantform sweep --delete (exit ${del.result.code})`, del.byService, del.total));
    console.log(
      `  deleted ${delReport.summary.deleted}, failed ${delReport.summary.failed}; ${del.mutating} mutating calls; ` +
        `${del.total - dry.total} calls beyond the dry run's; ${secs(delMs)}`,
    );
    console.log('');

    // (c) DRIFT: the lead adds the drift helper's figures here, measured on this same fleet:
    //     - calls of a full deep `tenantform drift` (and a per-resource baseline),
    //     - calls of one `drift --budget N` run,
    //     - scheduled runs a 10,000-tenant fleet needs for one rotation at a budget leaving 75% of
    //       the Cloudflare limit to apply.
    console.log('(c) drift — figures added by the lead from the drift helper (full deep drift, one --budget run, 10,000-tenant rotation)');
    console.log('');
    console.log(`total bench time ${secs(performance.now() - started)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([aws.close(), cf.close()]);
    moto.stop();
  }
}

await main();
