/**
 * The drift result: per resource, what differs from what tenantform would have created. Plain
 * data; the text, JSON and Markdown renderers all render this one object.
 *
 * Severity `security` marks drift that exposes something: an ingress rule open to the world,
 * tcp/22 from anything but the EIC endpoint's group, a tunnel ingress origin that is not the
 * platform service, a CNAME pointing at a tunnel that no longer exists (anyone could claim it).
 * Everything else is `drift`. Security findings always come first. `info` marks what differs but
 * is kept by rule (a root volume larger than declared: EBS cannot shrink, the planner keeps it):
 * such findings are the result's `notes`, never its `findings`, so they neither make drift exit 2
 * nor reach `--fix`.
 */
import type { Account } from '../accounts.js';
import type { CallCounts } from '../live/readers.js';

export type DriftSeverity = 'security' | 'drift' | 'info';

export type DriftResource = 'securityGroup' | 'ingress' | 'dnsRecord' | 'tunnel' | 'instance' | 'secret';

export type DriftCode =
  | 'ruleOpenToWorld'
  | 'sshNotFromEic'
  | 'ruleExtra'
  | 'ruleMissing'
  | 'securityGroupMissing'
  | 'ingressOrigin'
  | 'ingressRules'
  | 'ingressMissing'
  | 'danglingRecord'
  | 'recordMissing'
  | 'recordType'
  | 'recordContent'
  | 'recordProxied'
  | 'recordTtl'
  | 'tunnelMissing'
  | 'instanceMissing'
  | 'instanceType'
  | 'volumeSize'
  | 'volumeLarger'
  | 'instanceProfile'
  | 'ami'
  | 'power'
  | 'tag'
  | 'bundleMissing'
  | 'bundleScheduledForDeletion'
  | 'bundleNotJson'
  | 'bundleKeysMissing'
  | 'backupConfig';

/** `inPlace`: `drift --fix` (or apply) repairs it; `manual`: the remedy says what to do. */
export type DriftRepair = 'inPlace' | 'manual';

export interface DriftFinding {
  /** The AWS account of the tenant compared, when a canary account is configured (absent: main). */
  account?: Account;
  severity: DriftSeverity;
  code: DriftCode;
  resource: DriftResource;
  /** Cloud id (group, tunnel, record, instance id or secret name); '' when the resource is missing. */
  resourceId: string;
  slug: string;
  orgId: string;
  /** The workspace's file name, for a workspace's resources. */
  workspace?: string;
  /** Never a secret value: names, ports, sources, types, tag values. */
  expected?: string;
  actual?: string;
  message: string;
  repair: DriftRepair;
  remedy?: string;
}

/** What `drift --fix` did about one resource's findings. */
export interface FixOutcome {
  slug: string;
  workspace?: string;
  resource: DriftResource;
  resourceId: string;
  codes: DriftCode[];
  /** `leftToApply`: needs a create or a grow that `tenantform apply` makes; `manual`: see detail. */
  status: 'fixed' | 'failed' | 'leftToApply' | 'manual';
  detail: string;
}

export interface DriftResult {
  /** The JSON form's schema version. */
  version: 1;
  environment: string;
  observedAt: string;
  tenants: number;
  findings: DriftFinding[];
  /** Informational (severity `info`): differences kept by rule, nothing to fix. Absent in results from before they existed. */
  notes?: DriftFinding[];
  deep: {
    /** --budget, when set: per-tenant calls per service in one run. */
    budget: number | undefined;
    /** Slugs deep-checked in this run (stalest first). */
    checked: string[];
    /** Slugs still waiting for a deep check (stalest first). */
    pending: string[];
    budgetTooSmall: boolean;
  };
  /** Requests made: the list calls every run makes (as plan), and the budgeted per-tenant ones. */
  calls: { list: CallCounts; deep: CallCounts };
  warnings: string[];
  /** With --fix: what was found before, what was done; `findings` is then the re-observation after it. */
  fix?: { runId: string; before: DriftFinding[]; outcomes: FixOutcome[] };
}

/** 0 clean, 2 drift (left), 4 some --fix repair failed. */
export function driftExitCode(result: Pick<DriftResult, 'findings' | 'fix'>): number {
  if (result.fix?.outcomes.some((o) => o.status === 'failed')) return 4;
  return result.findings.length > 0 ? 2 : 0;
}

const SEVERITY_ORDER: Record<DriftSeverity, number> = { security: 0, drift: 1, info: 2 };

/** Security first, then by tenant, workspace, resource and code, so output is stable. */
export function sortFindings(findings: DriftFinding[]): DriftFinding[] {
  const key = (f: DriftFinding) => [SEVERITY_ORDER[f.severity], f.slug, f.workspace ?? '', f.resource, f.code, f.resourceId, f.actual ?? ''].join('\u0000');
  return findings.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
