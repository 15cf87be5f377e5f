/**
 * fleet.yaml after its schema check: defaults filled in, and the rules a schema cannot say
 * (tier names unique, clamp bounds in the table and not reserved, rollout batches coherent).
 */
import type { Diagnostic } from './diagnostics.js';
import {
  DEFAULT_BUDGETS,
  DEFAULT_DELETION,
  DEFAULT_GUARDS,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_QUOTAS,
  DEFAULT_ROLLOUT,
  DEFAULT_TENANT,
  DEFAULT_TIER_CLAMP,
  DEFAULT_TIERS,
  DEFAULT_VOLUME_FLOORS,
} from './defaults.js';
import { imageWarning } from './images.js';
import type { AmiPin, Budgets, Environment, FleetSpec, RateBudget, RolloutBatch, Schedules, TierSpec } from './model.js';
import { checkSchedules } from './schedules.js';
import { located, type ParsedYaml } from './source.js';

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? Partial2<T[K]> : T[K] };

/** The shape fleet.schema.json guarantees. */
export interface RawFleet {
  apiVersion: string;
  kind: 'Fleet';
  environment: Environment;
  region: string;
  appDomain: string;
  tenantImage: string;
  canaryTenantImage?: string;
  defaultAmi?: string;
  amiPins?: Record<string, Record<string, string>>;
  runtimeImages?: Record<string, string>;
  tenant?: Partial<FleetSpec['tenant']>;
  tiers?: { name: string; instanceType: string; volumeGb: number; reserved?: boolean }[];
  tierClamp?: { min: string; max: string };
  volumeFloors?: Record<string, number>;
  rollout?: { batches?: (number | string)[]; maxFailureRatio?: number; healthCheck?: { url: string; timeoutSeconds?: number; intervalSeconds?: number } };
  guards?: { maxDeletes?: number; maxTerminations?: number; maxReplacements?: number };
  deletion?: Partial<FleetSpec['deletion']>;
  budgets?: Partial2<Budgets>;
  quotas?: { tunnelsPerAccount?: number; dnsRecordsPerZone?: number; vcpus?: number };
  schedules?: Schedules;
}

/** Builds the FleetSpec from a schema-valid fleet.yaml; undefined when a rule fails. */
export function buildFleet(parsed: ParsedYaml, diagnostics: Diagnostic[]): FleetSpec | undefined {
  const raw = parsed.value as RawFleet;
  const errorsBefore = diagnostics.filter((d) => d.severity === 'error').length;
  const error = (path: (string | number)[], message: string, target: 'key' | 'value' = 'value') => diagnostics.push(located(parsed, 'error', path, message, target));

  const tiers: TierSpec[] = raw.tiers
    ? raw.tiers.map((t) => ({ name: t.name, instanceType: t.instanceType, volumeGb: t.volumeGb, reserved: t.reserved ?? false }))
    : DEFAULT_TIERS.map((t) => ({ ...t }));
  const firstIndex = new Map<string, number>();
  tiers.forEach((t, i) => {
    if (firstIndex.has(t.name)) error(['tiers', i, 'name'], `Tier "${t.name}" is listed twice in the tier table; tier names must be unique.`);
    else firstIndex.set(t.name, i);
  });

  const open = tiers.filter((t) => !t.reserved);
  const tierClamp = raw.tierClamp ?? (raw.tiers ? { min: open[0]?.name ?? '', max: open[open.length - 1]?.name ?? '' } : { ...DEFAULT_TIER_CLAMP });
  if (open.length === 0) {
    error(['tiers'], 'Every tier in the table is reserved; at least one tier must be usable.');
  } else {
    const names = tiers.map((t) => t.name).join(', ');
    for (const bound of ['min', 'max'] as const) {
      const name = tierClamp[bound];
      const index = firstIndex.get(name);
      const path = raw.tierClamp ? ['tierClamp', bound] : ['tiers'];
      if (index === undefined) error(path, `The clamp bound ${bound} names tier "${name}", which is not in the tier table (${names}).`);
      else if (tiers[index]!.reserved) error(path, `The clamp bound ${bound} names tier "${name}", which is reserved; clamp to a usable tier.`);
    }
    const minIndex = firstIndex.get(tierClamp.min);
    const maxIndex = firstIndex.get(tierClamp.max);
    if (minIndex !== undefined && maxIndex !== undefined && minIndex > maxIndex) {
      error(
        ['tierClamp', 'min'],
        `The clamp min tier "${tierClamp.min}" comes after the max tier "${tierClamp.max}" in the tier table, which lists tiers smallest first.`,
      );
    }
  }

  if (raw.tenant?.platformPort === 22) {
    error(
      ['tenant', 'platformPort'],
      "The platform port cannot be 22: the platform port is opened to the whole VPC CIDR, while tcp/22 is the EC2 Instance Connect rule, open only to the EIC endpoint's security group.",
    );
  }

  const batchesRaw = raw.rollout?.batches ?? DEFAULT_ROLLOUT.batches;
  const batches: RolloutBatch[] = [];
  let fullAt: number | undefined;
  batchesRaw.forEach((b, i) => {
    const path = ['rollout', 'batches', i];
    if (fullAt !== undefined) {
      error(path, `Batch ${i + 1} follows the 100% batch ${fullAt + 1}, which already covers every remaining tenant; remove it.`);
      return;
    }
    if (typeof b === 'number') {
      batches.push({ count: b });
      return;
    }
    const percent = Number(b.slice(0, -1));
    if (percent > 100) {
      error(path, `Batch ${i + 1} is ${b}; a percentage batch must be between 1% and 100%.`);
      return;
    }
    if (percent === 100) fullAt = i;
    batches.push({ percent });
  });

  const imagePaths: [string[], string | undefined][] = [
    [['tenantImage'], raw.tenantImage],
    [['canaryTenantImage'], raw.canaryTenantImage],
    ...Object.entries(raw.runtimeImages ?? {}).map(([runtime, image]): [string[], string] => [['runtimeImages', runtime], image]),
  ];
  for (const [path, image] of imagePaths) {
    const warning = image === undefined ? undefined : imageWarning(image);
    if (warning) diagnostics.push(located(parsed, 'warning', path, warning));
  }
  if (raw.canaryTenantImage !== undefined && raw.canaryTenantImage === raw.tenantImage) {
    diagnostics.push(
      located(
        parsed,
        'warning',
        ['canaryTenantImage'],
        'canaryTenantImage equals tenantImage, so canary tenants test nothing new; remove it when no canary rollout is in progress.',
      ),
    );
  }

  checkSchedules(raw.schedules, error);

  if (diagnostics.filter((d) => d.severity === 'error').length > errorsBefore) return undefined;

  const amiPins: AmiPin[] = [];
  for (const [runtime, byRegion] of Object.entries(raw.amiPins ?? {})) {
    for (const [region, ami] of Object.entries(byRegion)) amiPins.push({ runtime, region, ami });
  }
  return {
    apiVersion: raw.apiVersion,
    environment: raw.environment,
    region: raw.region,
    appDomain: raw.appDomain,
    tenantImage: raw.tenantImage,
    canaryTenantImage: raw.canaryTenantImage,
    defaultAmi: raw.defaultAmi,
    amiPins,
    runtimeImagePins: { ...(raw.runtimeImages ?? {}) },
    tenant: { ...DEFAULT_TENANT, ...raw.tenant },
    tiers,
    tierClamp: { min: tierClamp.min, max: tierClamp.max },
    volumeFloors: { ...(raw.volumeFloors ?? DEFAULT_VOLUME_FLOORS) },
    rollout: {
      batches,
      maxFailureRatio: raw.rollout?.maxFailureRatio ?? DEFAULT_ROLLOUT.maxFailureRatio,
      ...(raw.rollout?.healthCheck ? { healthCheck: { ...DEFAULT_HEALTH_CHECK, ...raw.rollout.healthCheck } } : {}),
    },
    guards: { ...DEFAULT_GUARDS, ...raw.guards },
    deletion: { ...DEFAULT_DELETION, ...raw.deletion },
    budgets: mergeBudgets(raw.budgets),
    quotas: { ...DEFAULT_QUOTAS, vcpus: undefined, ...raw.quotas },
    ...(raw.schedules ? { schedules: { ...raw.schedules } } : {}),
  };
}

function mergeRate(base: RateBudget, over: Partial<RateBudget> | undefined): RateBudget {
  return { ...base, ...over };
}

function mergeBudgets(over: Partial2<Budgets> | undefined): Budgets {
  const d = DEFAULT_BUDGETS;
  const ec2 = over?.ec2;
  return {
    concurrency: over?.concurrency ?? d.concurrency,
    ec2: {
      describe: mergeRate(d.ec2.describe, ec2?.describe),
      mutate: mergeRate(d.ec2.mutate, ec2?.mutate),
      runInstances: mergeRate(d.ec2.runInstances, ec2?.runInstances),
      terminateInstances: mergeRate(d.ec2.terminateInstances, ec2?.terminateInstances),
      authorizeIngress: mergeRate(d.ec2.authorizeIngress, ec2?.authorizeIngress),
    },
    secretsManager: mergeRate(d.secretsManager, over?.secretsManager),
    ssm: mergeRate(d.ssm, over?.ssm),
    cloudflare: { ...d.cloudflare, ...over?.cloudflare },
  };
}
