/**
 * The quota guard: a plan that would run into an account or zone quota part-way through apply is
 * refused before anything is created (`quota`, blocking, exit 3, with the numbers), and one that
 * ends within 10% of a quota gets a `quotaNear` notice. The planner's caller (src/app/plan.ts)
 * observes what is counted (src/live/quotas.ts) only when the plan adds something; apply's
 * preflight observes again and re-derives the findings from the actions (src/apply/preflight.ts).
 * Pure: no SDK, no I/O.
 *
 * What is counted, against what:
 * - Cloudflare tunnels per account (`quotas.tunnelsPerAccount`, 1,000 by default) and DNS records
 *   per zone (`quotas.dnsRecordsPerZone`, 3,500 by default): every live one in the account or
 *   zone, plus the plan's create steps, minus its delete steps.
 * - EC2 running On-Demand Standard vCPUs (Service Quotas L-1216C47A, else `quotas.vcpus`): the
 *   vCPUs of every instance running or pending in the account and region, plus those of every
 *   planned launch and start (a resize of a running instance adds only the difference), minus
 *   those of the instances a replacement terminates just before its launch. Stops and other
 *   terminations are not subtracted: apply runs targets in parallel, so a later stop cannot be
 *   counted on to make room for an earlier launch.
 * - The quota cannot be known (no Service Quotas answer, no `quotas.vcpus`): a `quotaUnknown`
 *   notice, and nothing is refused on that count.
 */
import type { QuotaLimits } from '../desired/model.js';
import { isStandardFamily } from '../ec2-families.js';
import type { Inventory } from '../live/model.js';
import type { QuotaNeeds, QuotaObservation } from '../live/quotas.js';
import type { Action, GuardFinding, GuardKind, PlanNotice } from './model.js';

/** The guards this module derives (apply re-derives them; see apply/preflight.ts). */
export const QUOTA_GUARDS: ReadonlySet<GuardKind> = new Set<GuardKind>(['quota']);
/** The notices this module derives; apply replaces them with its own. */
export const QUOTA_NOTICES: ReadonlySet<PlanNotice['kind']> = new Set<PlanNotice['kind']>(['quotaNear', 'quotaUnknown']);
/** Ending at or above this share of a quota is worth a notice. */
export const NEAR_QUOTA_SHARE = 0.9;

interface Counted {
  adds: number;
  removes: number;
  actions: Action[];
}

function counted(actions: readonly Action[], resource: 'tunnel' | 'dnsRecord'): Counted {
  const out: Counted = { adds: 0, removes: 0, actions: [] };
  for (const a of actions) {
    const adds = a.steps.filter((s) => s.resource === resource && s.op === 'create').length;
    out.adds += adds;
    out.removes += a.steps.filter((s) => s.resource === resource && s.op === 'delete').length;
    if (adds > 0) out.actions.push(a);
  }
  return out;
}

function intentType(a: Action): string | undefined {
  return a.intent.kind === 'tenant' ? a.intent.tenant.instanceType : a.intent.kind === 'workspace' ? a.intent.workspace.instanceType : undefined;
}

/** Live instance id → [type, state], for resizes and replacements. */
function liveInstances(inventory: Inventory): Map<string, { type: string; running: boolean }> {
  const out = new Map<string, { type: string; running: boolean }>();
  for (const t of Object.values(inventory.tenants ?? {})) {
    const all = [...t.instances, ...Object.values(t.workspaces).flatMap((w) => w.instances)];
    for (const i of all) out.set(i.instanceId, { type: i.instanceType, running: i.state === 'running' || i.state === 'pending' });
  }
  return out;
}

interface VcpuDemand {
  /** Type → vCPU sign per instance: +1 a launch or start, −1 a replaced running instance. */
  deltas: Array<{ type: string; sign: 1 | -1; action: Action }>;
}

function vcpuDemand(actions: readonly Action[], inventory: Inventory): VcpuDemand {
  const live = liveInstances(inventory);
  const deltas: VcpuDemand['deltas'] = [];
  for (const a of actions) {
    if (a.kind === 'delete') {
      if (!a.replacement) continue;
      for (const s of a.steps) {
        const l = s.resource === 'instance' && s.op === 'delete' && s.id ? live.get(s.id) : undefined;
        if (l?.running) deltas.push({ type: l.type, sign: -1, action: a });
      }
      continue;
    }
    const type = intentType(a);
    if (!type) continue;
    const stopped = new Set<string>();
    for (const s of a.steps) {
      if (s.resource !== 'instance') continue;
      if (s.op === 'stop' && s.id) stopped.add(s.id);
      if (s.op === 'create') deltas.push({ type, sign: 1, action: a });
      if (s.op === 'start') {
        deltas.push({ type, sign: 1, action: a });
        // A resize of a running instance: stopped, then started as the new type.
        const before = s.id && stopped.has(s.id) ? live.get(s.id) : undefined;
        if (before?.running) deltas.push({ type: before.type, sign: -1, action: a });
      }
    }
  }
  return { deltas: deltas.filter((d) => isStandardFamily(d.type)) };
}

/** What the observer must read for this plan: nothing the plan does not add to. */
export function quotaNeeds(actions: readonly Action[], inventory: Inventory): QuotaNeeds {
  const demand = vcpuDemand(actions, inventory);
  const launches = demand.deltas.filter((d) => d.sign === 1);
  return {
    tunnels: counted(actions, 'tunnel').adds > 0,
    dnsRecords: counted(actions, 'dnsRecord').adds > 0,
    ...(launches.length > 0 ? { instanceTypes: [...new Set(demand.deltas.map((d) => d.type))].sort() } : {}),
  };
}

export interface QuotaInputs {
  inventory: Inventory;
  observation: QuotaObservation;
  limits: QuotaLimits;
}

export interface QuotaResult {
  findings: GuardFinding[];
  notices: PlanNotice[];
  blocks: Map<string, GuardKind[]>;
}

interface Check {
  what: string;
  live: number;
  adds: number;
  removes: number;
  limit: number;
  source: string;
  actions: Action[];
}

export function evaluateQuotas(actions: readonly Action[], inputs: QuotaInputs): QuotaResult {
  const { observation: obs, limits } = inputs;
  const checks: Check[] = [];
  const notices: PlanNotice[] = [];
  const tunnels = counted(actions, 'tunnel');
  if (tunnels.adds > 0 && obs.tunnels !== undefined) {
    checks.push({ what: 'Cloudflare tunnels in the account', live: obs.tunnels, ...tunnels, limit: limits.tunnelsPerAccount, source: 'quotas.tunnelsPerAccount' });
  }
  const records = counted(actions, 'dnsRecord');
  if (records.adds > 0 && obs.dnsRecords !== undefined) {
    checks.push({ what: 'DNS records in the zone', live: obs.dnsRecords, ...records, limit: limits.dnsRecordsPerZone, source: 'quotas.dnsRecordsPerZone' });
  }
  const demand = vcpuDemand(actions, inputs.inventory);
  const ec2 = obs.ec2;
  if (ec2 && demand.deltas.some((d) => d.sign === 1)) {
    const limit = ec2.vcpuQuota ?? limits.vcpus;
    const source = ec2.vcpuQuota !== undefined ? 'Service Quotas L-1216C47A' : 'quotas.vcpus (Service Quotas could not be read)';
    let adds = 0;
    let removes = 0;
    const unknown = new Set<string>();
    for (const d of demand.deltas) {
      const n = ec2.vcpusByType[d.type];
      if (n === undefined) unknown.add(d.type);
      else if (d.sign === 1) adds += n;
      else removes += n;
    }
    const launching = [...new Set(demand.deltas.filter((d) => d.sign === 1).map((d) => d.action))];
    if (unknown.size > 0) {
      notices.push({
        kind: 'quotaUnknown',
        message: `vCPUs of instance type ${[...unknown].sort().join(', ')} unknown (DescribeInstanceTypes did not list it); not counted against the vCPU quota`,
        targets: [],
      });
    }
    if (limit === undefined) {
      notices.push({
        kind: 'quotaUnknown',
        message: `the EC2 On-Demand Standard vCPU quota could not be read (${ec2.quotaError ?? 'no value'}) and fleet.yaml sets no quotas.vcpus; ${adds} vCPUs planned on top of ${ec2.runningVcpus} running were not checked`,
        targets: [],
      });
    } else {
      checks.push({
        what: `running On-Demand Standard vCPUs (${ec2.runningInstances} instances running now)`,
        live: ec2.runningVcpus,
        adds,
        removes,
        limit,
        source,
        actions: launching,
      });
    }
  }
  const findings: GuardFinding[] = [];
  const blocks = new Map<string, GuardKind[]>();
  for (const c of checks) {
    const after = c.live + c.adds - c.removes;
    const numbers = `${c.live} live + ${c.adds} planned${c.removes > 0 ? ` − ${c.removes} freed` : ''} = ${after}`;
    const targets = c.actions.map((a) => (a.target.kind === 'tenant' ? a.target.slug : `${a.target.slug}/${a.target.workspaceName ?? a.target.workspaceId ?? ''}`));
    if (after > c.limit) {
      findings.push({
        guard: 'quota',
        blocking: true,
        message: `${c.what}: ${numbers}, over the quota of ${c.limit} (${c.source}) by ${after - c.limit}; nothing is created (free some or raise the quota first)`,
        actionIds: c.actions.map((a) => a.id),
      });
      for (const a of c.actions) blocks.set(a.id, ['quota']);
    } else if (after >= c.limit * NEAR_QUOTA_SHARE) {
      notices.push({
        kind: 'quotaNear',
        message: `${c.what}: ${numbers} of the quota of ${c.limit} (${c.source}), within 10% of it`,
        targets: [...new Set(targets)].sort(),
      });
    }
  }
  return { findings, notices, blocks };
}

/** The plan with its quota findings, notices and `blockedBy` marks replaced by `result`'s (everything else kept). */
export function withQuotaResult<P extends { actions: Action[]; guards: GuardFinding[]; notices: PlanNotice[] }>(plan: P, result: QuotaResult): P {
  const actions = plan.actions.map((a) => {
    const { blockedBy: _ignored, ...rest } = a;
    const by = [...(a.blockedBy ?? []).filter((g) => !QUOTA_GUARDS.has(g)), ...(result.blocks.get(a.id) ?? [])];
    return by.length > 0 ? { ...rest, blockedBy: by } : rest;
  });
  return {
    ...plan,
    actions,
    guards: [...plan.guards.filter((g) => !QUOTA_GUARDS.has(g.guard)), ...result.findings],
    notices: [...plan.notices.filter((n) => !QUOTA_NOTICES.has(n.kind)), ...result.notices],
  };
}
