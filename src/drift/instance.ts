/**
 * Drift of one instance (tenant or workspace) and of contract tags on any resource. Pure.
 *
 * - Instance type compares as the planner does (trimmed, case-insensitive); a different type is
 *   fixed in place (stop, modify, start).
 * - Root volume: smaller than declared is drift (grown in place); larger is kept, as the planner
 *   keeps it (EBS cannot shrink), and reported as an `info` note only: nothing is to be fixed.
 * - AMI: a different AMI is reported, never fixed in place: only a replacement changes it.
 * - IAM instance profile: compared by name (the ARN's last segment) when EC2_TENANT_IAM_PROFILE is known.
 * - Power: pending counts as running, stopping as stopped (src/plan/normalise.ts).
 */
import { Tag } from '../contract.js';
import type { Power } from '../desired/model.js';
import type { LiveInstance } from '../live/model.js';
import { powerOf, sameInstanceType } from '../plan/normalise.js';
import type { DriftExpectations } from './expectations.js';
import type { DriftFinding, DriftResource } from './model.js';
import type { Owner } from './network.js';

export interface InstanceWant {
  instanceType: string;
  volumeGb: number;
  ami: string;
  power: Power;
  /** `<slug>` or `<slug>/<workspace>`, for the replace remedy. */
  target: string;
}

export function compareInstance(owner: Owner, inst: LiveInstance, want: InstanceWant, profileArn: string | undefined, x: DriftExpectations): DriftFinding[] {
  const out: DriftFinding[] = [];
  const base = { ...owner, resource: 'instance' as const, resourceId: inst.instanceId };
  if (!sameInstanceType(inst.instanceType, want.instanceType)) {
    out.push({
      ...base,
      severity: 'drift',
      code: 'instanceType',
      expected: want.instanceType,
      actual: inst.instanceType,
      message: `instance type ${inst.instanceType}, declared ${want.instanceType}`,
      repair: 'inPlace',
      remedy: 'stop, modify, start (apply resizes it)',
    });
  }
  if (inst.volumeGb !== undefined && inst.volumeGb < want.volumeGb) {
    out.push({
      ...base,
      severity: 'drift',
      code: 'volumeSize',
      expected: `${want.volumeGb} GB`,
      actual: `${inst.volumeGb} GB`,
      message: `root volume ${inst.volumeGb} GB, declared ${want.volumeGb} GB`,
      repair: 'inPlace',
      remedy: 'apply grows the volume in place',
    });
  }
  if (inst.volumeGb !== undefined && inst.volumeGb > want.volumeGb) {
    out.push({
      ...base,
      severity: 'info',
      code: 'volumeLarger',
      expected: `${want.volumeGb} GB`,
      actual: `${inst.volumeGb} GB`,
      message: `root volume ${inst.volumeGb} GB, larger than the declared ${want.volumeGb} GB; kept (an EBS volume cannot shrink)`,
      repair: 'manual',
      remedy: `declare ${inst.volumeGb} GB to match, or replace the instance (\`tenantform plan --replace ${want.target}\`) for a disk of the declared size`,
    });
  }
  if (want.ami !== '' && inst.imageId !== want.ami) {
    out.push({
      ...base,
      severity: 'drift',
      code: 'ami',
      expected: want.ami,
      actual: inst.imageId,
      message: `runs AMI ${inst.imageId}, declared ${want.ami}`,
      repair: 'manual',
      remedy: `an AMI cannot change in place: replace the instance with \`tenantform plan --replace ${want.target}\` and apply${owner.workspace ? '' : ' (a tenant instance holds its database: back it up first)'}`,
    });
  }
  if (x.iamProfile !== undefined) {
    const name = profileArn?.split('/').pop();
    if (name !== x.iamProfile) {
      out.push({
        ...base,
        severity: 'drift',
        code: 'instanceProfile',
        expected: x.iamProfile,
        actual: name ?? '(none)',
        message: `IAM instance profile ${name ?? '(none)'}, expected ${x.iamProfile}`,
        repair: 'inPlace',
        remedy: '`tenantform drift --fix` associates it (or replaces the association of another profile)',
      });
    }
  }
  const live = powerOf(inst.state);
  if (live !== want.power) {
    out.push({
      ...base,
      severity: 'drift',
      code: 'power',
      expected: want.power,
      actual: inst.state,
      message: `${inst.state}, declared ${want.power}`,
      repair: 'inPlace',
    });
  }
  return out;
}

/** Every contract tag that is missing or differs; `want` holds only the tags tenantform sets. */
export function compareTags(owner: Owner, resource: DriftResource, resourceId: string, live: Record<string, string>, want: Record<string, string>): DriftFinding[] {
  const out: DriftFinding[] = [];
  for (const key of Object.keys(want).sort()) {
    const have = live[key];
    if (have === want[key]) continue;
    out.push({
      ...owner,
      severity: 'drift',
      code: 'tag',
      resource,
      resourceId,
      expected: `${key}=${want[key]}`,
      actual: have === undefined ? `${key} absent` : `${key}=${have}`,
      message: `tag ${key} is ${have === undefined ? 'missing' : `"${have}"`}, expected "${want[key]}"`,
      repair: 'inPlace',
      // The Image tag records what was deployed (a failed health check leaves the old one): stamping it would skip the redeploy.
      ...(key === Tag.image ? { remedy: 'apply redeploys the declared image over SSM, which moves the tag' } : {}),
    });
  }
  return out;
}
