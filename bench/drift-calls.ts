/**
 * `node --import tsx bench/drift-calls.ts` — what `tenantform drift` costs, counted on the wire:
 *
 * (a) a full deep drift (no --budget) of a seeded fleet (default 500 tenants × 2 workspaces, as
 *     bench/plan.ts seeds), beside a per-resource baseline (one read per live resource, as a
 *     Terraform refresh would make, plus the configuration GET and bundle read drift needs);
 * (b) one `--budget` run on the same fleet;
 * (c) how many scheduled runs a 10,000-tenant fleet needs for one full rotation when drift may use
 *     only 25% of Cloudflare's 1,200 requests per 5 minutes (the rest is left to apply).
 *
 * BENCH_TENANTS / BENCH_WORKSPACES / BENCH_BUDGET change the sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateSubnetCommand } from '@aws-sdk/client-ec2';
import Cloudflare from 'cloudflare';
import pLimit from 'p-limit';
import { runDrift } from '../src/cli/drift.js';
import { memoryIo } from '../src/cli/io.js';
import { loadFleet } from '../src/desired/load.js';
import { startAwsEmulator } from '../test/support/aws.js';
import { startCloudflareDouble } from '../test/support/cloudflare-double/index.js';
import { startMotoServer } from '../test/support/moto.js';
import { commitAll, generatedTenants, seedSpec, writeFleet } from '../test/live/fleet.js';
import { seedTenant, type SeedTarget } from '../test/live/seed.js';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 500);
const WORKSPACES = Number(process.env.BENCH_WORKSPACES ?? 2);
const BUDGET = Number(process.env.BENCH_BUDGET ?? 100);
const ZONE = 'example.test';
const APP_DOMAIN = `apps.${ZONE}`;
/** Published: 1,200 requests per 5 minutes per account (notes/limits.md). */
const CF_LIMIT = 1200;
const CF_WINDOW_MIN = 5;
const DRIFT_SHARE = 0.25;
/** The observers' page sizes (src/live/tunnels.ts, src/live/dns.ts). */
const TUNNEL_PAGE = 1000;
const DNS_PAGE = 5000;

const fmt = (n: number) => n.toLocaleString('en-US');

async function counted<T>(aws: { calls: { service: string }[] }, cf: { requests: unknown[] }, run: () => Promise<T>) {
  const a = aws.calls.length;
  const c = cf.requests.length;
  const result = await run();
  const by: Record<string, number> = {};
  for (const call of aws.calls.slice(a)) by[call.service] = (by[call.service] ?? 0) + 1;
  by.cloudflare = cf.requests.length - c;
  return { result, by, total: Object.values(by).reduce((x, y) => x + y, 0) };
}

const line = (label: string, by: Record<string, number>, total: number) =>
  `  ${label.padEnd(30)} ${fmt(total).padStart(7)} calls  (${Object.entries(by)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([s, n]) => `${s} ${fmt(n)}`)
    .join(', ')})`;

async function main(): Promise<void> {
  process.env.PYTHONPATH = [resolve(import.meta.dirname, 'moto-tag-index'), process.env.PYTHONPATH].filter(Boolean).join(':');
  const moto = await startMotoServer();
  const [aws, cf] = await Promise.all([startAwsEmulator({ moto }), startCloudflareDouble({ zoneName: ZONE, rateLimit: { requests: 10_000_000, windowSeconds: 300 } })]);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-drift-'));
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
    const tenants = generatedTenants(TENANTS, WORKSPACES);
    writeFleet(dir, APP_DOMAIN, tenants);
    await commitAll(dir, 'fleet');
    const { state } = await loadFleet(dir, { env });
    if (!state) throw new Error('the generated fleet does not load');
    const started = performance.now();
    const limit = pLimit(24);
    await Promise.all(state.tenants.map((t) => limit(() => seedTenant(target, seedSpec(t)))));
    console.log(`bench:drift — ${fmt(TENANTS)} tenants × ${WORKSPACES} workspaces seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const liveInstances = TENANTS * (1 + WORKSPACES);

    const db = join(dir, 'drift.db');
    const full = await counted(aws, cf, () => runDrift(memoryIo({ env, cwd: dir }), { json: true, db }));
    if (!full.result.result) throw new Error(`drift failed (exit ${full.result.code})`);
    const budgeted = await counted(aws, cf, () => runDrift(memoryIo({ env, cwd: dir }), { json: true, db, budget: String(BUDGET) }));
    const baseline = {
      ec2: liveInstances * 3, // DescribeInstances, DescribeVolumes, DescribeSecurityGroups per instance
      secretsmanager: TENANTS * 2, // DescribeSecret + GetSecretValue per bundle
      cloudflare: TENANTS * 3, // tunnel GET, tunnel configuration GET, DNS record GET
    };
    const baselineTotal = baseline.ec2 + baseline.secretsmanager + baseline.cloudflare;

    console.log('(a) full deep drift (every tenant deep-checked)');
    console.log(line('tenantform drift', full.by, full.total));
    console.log(line('per-resource baseline', baseline, baselineTotal));
    console.log(`  findings on the seeded fleet: ${fmt(full.result.result.findings.length)} (the seed writes no ingress configuration)`);
    console.log(`(b) one --budget ${BUDGET} run`);
    console.log(line(`tenantform drift --budget ${BUDGET}`, budgeted.by, budgeted.total));
    console.log(`  deep-checked ${budgeted.result.result?.deep.checked.length}, pending ${budgeted.result.result?.deep.pending.length}`);

    const n = 10_000;
    const listCf = Math.ceil(n / TUNNEL_PAGE) + Math.ceil(n / DNS_PAGE);
    const perWindow = CF_LIMIT * DRIFT_SHARE;
    const budget = perWindow - listCf;
    const runs = Math.ceil(n / budget);
    console.log(`(c) 10,000 tenants, drift limited to ${DRIFT_SHARE * 100}% of Cloudflare's ${fmt(CF_LIMIT)} per ${CF_WINDOW_MIN} min (${perWindow} per window)`);
    console.log(`  list calls per run on Cloudflare: ${listCf} (tunnels ${Math.ceil(n / TUNNEL_PAGE)} pages, DNS ${Math.ceil(n / DNS_PAGE)}) → --budget ${budget}`);
    console.log(`  one rotation: ⌈10,000 / ${budget}⌉ = ${runs} runs; every ${CF_WINDOW_MIN} min → ${((runs * CF_WINDOW_MIN) / 60).toFixed(1)} h; hourly → ${runs} h`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all([aws.close(), cf.close()]);
    moto.stop();
  }
}

await main();
