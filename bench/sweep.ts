/**
 * `npm run bench:sweep` — what a sweep costs beside a plan, in one run, on one seeded fleet
 * (default 1,000 tenants × 5 workspaces, as bench:plan seeds, on moto with bench/moto-tag-index
 * and the Cloudflare double) with a sprinkling of orphans: a few whole tenants the repository no
 * longer declares and a few spare security groups of declared tenants.
 *
 * (a) API calls of a full `tenantform plan` and of a full `tenantform sweep` (dry run), counted on
 *     the wire. Aim: equal, ≤ 40 (the sweep reads the same inventory).
 * (b) `sweep --delete --min-age 0s`: the same list calls plus only the deletes (and their waits).
 * (c) drift on the same fleet (after (b) deleted the orphans; a few groups of declared tenants are
 *     opened to the world first, so the run finds something): calls of a full deep
 *     `tenantform drift` beside a per-resource baseline (one read per live resource, as a Terraform
 *     refresh would make, plus the configuration GET and bundle read drift needs), calls of one
 *     `drift --budget N` run, and how many scheduled runs a 10,000-tenant fleet needs for one full
 *     rotation when drift may use only 25% of Cloudflare's 1,200 requests per 5 minutes (the rest
 *     is left to apply). This replaces the former bench/drift-calls.ts.
 *
 * BENCH_TENANTS / BENCH_WORKSPACES / BENCH_ORPHANS / BENCH_BUDGET change the fleet's size, the
 * sprinkling and the budget of (c)'s budgeted run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuthorizeSecurityGroupIngressCommand, CreateSubnetCommand } from '@aws-sdk/client-ec2';
import Cloudflare from 'cloudflare';
import pLimit from 'p-limit';
import { baseTags } from '../src/contract.js';
import { runDrift } from '../src/cli/drift.js';
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
const BUDGET = Number(process.env.BENCH_BUDGET ?? 100);
const SEED_CONCURRENCY = 24;
/** Published: 1,200 requests per 5 minutes per account (notes/limits.md, notes/components.md). */
const CF_LIMIT = 1200;
const CF_WINDOW_MIN = 5;
/** The share of the Cloudflare budget scheduled drift may use; 75% is left to apply. */
const DRIFT_SHARE = 0.25;
/** The observers' page sizes (src/live/tunnels.ts, src/live/dns.ts). */
const TUNNEL_PAGE = 1000;
const DNS_PAGE = 5000;
const ROTATION_FLEET = 10_000;
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
    const seeded = new Map<string, string>();
    await Promise.all(
      state.tenants.map((t) =>
        limit(async () => {
          const spec = seedSpec(t);
          const s = await seedTenant(target, spec);
          if (s.securityGroupId) seeded.set(spec.slug, s.securityGroupId);
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

    // (c) drift on the same (now orphan-free) fleet, with a sprinkling of security drift: a few
    // declared tenants' groups opened to the world on tcp/22, as an operator's console would.
    const drifted = all.slice(ORPHANS, 2 * ORPHANS);
    for (const t of drifted) {
      const groupId = seeded.get(t.slug);
      if (!groupId) throw new Error(`no seeded group for ${t.slug}`);
      await clients.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
    }
    const driftDb = join(mkdtempSync(join(tmpdir(), 'tenantform-bench-drift-db-')), 'drift.db');
    const fullStart = performance.now();
    const full = await countCalls(aws, cf, () => runDrift(memoryIo({ env, cwd: dir }), { json: true, db: driftDb }));
    const fullMs = performance.now() - fullStart;
    const fullResult = full.result.result;
    if (!fullResult) throw new Error(`drift failed (exit ${full.result.code})`);
    const budStart = performance.now();
    const budgeted = await countCalls(aws, cf, () => runDrift(memoryIo({ env, cwd: dir }), { json: true, db: driftDb, budget: String(BUDGET) }));
    const budMs = performance.now() - budStart;
    const budResult = budgeted.result.result;
    if (!budResult) throw new Error(`drift --budget failed (exit ${budgeted.result.code})`);
    const liveInstances = TENANTS * (1 + WORKSPACES);
    const baseline = {
      ec2: liveInstances * 3, // DescribeInstances, DescribeVolumes, DescribeSecurityGroups per instance
      secretsmanager: TENANTS * 2, // DescribeSecret + GetSecretValue per bundle
      cloudflare: TENANTS * 3, // tunnel GET, tunnel configuration GET, DNS record GET
    };
    const baselineTotal = baseline.ec2 + baseline.secretsmanager + baseline.cloudflare;
    const security = fullResult.findings.filter((f) => f.severity === 'security').length;
    console.log('(c) drift (same fleet, after (b))');
    console.log(line(`tenantform drift (exit ${full.result.code})`, full.byService, full.total));
    console.log(line('per-resource baseline', baseline, baselineTotal));
    console.log(
      `  full deep drift: ${fmt(fullResult.deep.checked.length)} tenants deep-checked, ${fmt(fullResult.findings.length)} findings (${security} security; ` +
        `${drifted.length} groups opened to the world, and the seed writes no ingress configuration); ${(baselineTotal / full.total).toFixed(1)}× fewer calls than the baseline; ${secs(fullMs)}`,
    );
    console.log(line(`tenantform drift --budget ${BUDGET} (exit ${budgeted.result.code})`, budgeted.byService, budgeted.total));
    const checked = budResult.deep.checked.length;
    const cfDeep = budResult.calls.deep.cloudflare;
    const cfList = budResult.calls.list.cloudflare;
    console.log(
      `  one --budget ${BUDGET} run: ${fmt(checked)} tenants deep-checked, ${fmt(budResult.deep.pending.length)} pending; Cloudflare ${fmt(cfList)} list + ${fmt(cfDeep)} deep calls; ${secs(budMs)}`,
    );
    // The rotation at 10,000 tenants: the list calls every run makes on Cloudflare come out of the
    // drift share first; the rest is the --budget (per-tenant Cloudflare calls measured above).
    const perTenantCf = checked > 0 ? cfDeep / checked : 1;
    const listCf = Math.ceil(ROTATION_FLEET / TUNNEL_PAGE) + Math.ceil(ROTATION_FLEET / DNS_PAGE);
    const perWindow = CF_LIMIT * DRIFT_SHARE;
    const rotationBudget = perWindow - listCf;
    const perRun = Math.floor(rotationBudget / perTenantCf);
    const runs = Math.ceil(ROTATION_FLEET / perRun);
    console.log(
      `  ${fmt(ROTATION_FLEET)} tenants, drift limited to ${DRIFT_SHARE * 100}% of Cloudflare's ${fmt(CF_LIMIT)} per ${CF_WINDOW_MIN} min (${perWindow} per window, ${CF_LIMIT - perWindow} left to apply):`,
    );
    console.log(
      `    ${listCf} Cloudflare list calls per run (tunnels ${Math.ceil(ROTATION_FLEET / TUNNEL_PAGE)} pages, DNS ${Math.ceil(ROTATION_FLEET / DNS_PAGE)}) → --budget ${rotationBudget}, ` +
        `${perTenantCf.toFixed(1)} Cloudflare call(s) per tenant → ${perRun} tenants per run`,
    );
    console.log(
      `    one rotation: ⌈${fmt(ROTATION_FLEET)} / ${perRun}⌉ = ${runs} runs; every ${CF_WINDOW_MIN} min → ${((runs * CF_WINDOW_MIN) / 60).toFixed(1)} h; hourly → ${runs} h`,
    );
    console.log('');
    console.log(`total bench time ${secs(performance.now() - started)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([aws.close(), cf.close()]);
    moto.stop();
  }
}

await main();
