/**
 * Helpers for sweep tests: run `tenantform sweep` against an apply world (virtual time, the
 * world's audit database), and make marked, unmarked and other-environment resources from
 * outside with the SDK clients directly, as an operator's console would.
 */
import Database from 'better-sqlite3';
import { CreateSecurityGroupCommand, RunInstancesCommand, type Tag as Ec2Tag } from '@aws-sdk/client-ec2';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { dnsComment, tunnelName, tunnelTarget } from '../../src/contract.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { sweepCommandWith, type SweepDependencies } from '../../src/cli/sweep.js';
import { virtualClock } from '../apply/harness.js';
import { sdkFor } from '../contract/cloudflare-sdk.js';
import type { ApplyWorld, RunResult } from './apply-world.js';

export const APP_DOMAIN = 'tenants.example.dev';

export async function sweep(w: ApplyWorld, args: string[], opts: { deps?: SweepDependencies; dir?: string } = {}): Promise<RunResult> {
  const io = memoryIo({ env: w.env, cwd: opts.dir ?? w.dir });
  const code = await main(['sweep', ...args, '--db', w.db], io, [sweepCommandWith({ clock: virtualClock(), ...opts.deps })]);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

export function marks(env: string, orgId: string, slug: string, role: 'tenant' | 'workspace', extra: Record<string, string> = {}): Record<string, string> {
  return { ManagedBy: 'tenantform', Env: env, OrgID: orgId, OrgSlug: slug, Role: role, ...extra };
}

const ec2Tags = (tags: Record<string, string>): Ec2Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

export async function makeGroup(w: ApplyWorld, name: string, tags: Record<string, string>): Promise<string> {
  const out = await w.check.ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: 'made by hand',
      VpcId: w.aws.env.EC2_VPC_ID,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: ec2Tags(tags) }],
    }),
  );
  return out.GroupId!;
}

export async function makeInstance(w: ApplyWorld, tags: Record<string, string>, groupId?: string): Promise<string> {
  const out = await w.check.ec2.send(
    new RunInstancesCommand({
      ImageId: w.aws.env.EC2_AMI,
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: w.aws.env.EC2_SUBNET_ID,
      ...(groupId ? { SecurityGroupIds: [groupId] } : {}),
      TagSpecifications: [{ ResourceType: 'instance', Tags: ec2Tags(tags) }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

export async function makeSecret(w: ApplyWorld, name: string, tags: Record<string, string>): Promise<void> {
  await w.check.secrets.send(new CreateSecretCommand({ Name: name, SecretString: '{}', Tags: ec2Tags(tags) }));
}

export async function makeTunnel(w: ApplyWorld, env: string, slug: string, orgId: string): Promise<string> {
  const t = await sdkFor(w.cf, 2).zeroTrust.tunnels.cloudflared.create({ account_id: w.cf.accountId, name: tunnelName(env, slug, orgId), config_src: 'cloudflare' });
  return t.id!;
}

export async function makeRecord(w: ApplyWorld, env: string, slug: string, orgId: string, tunnelId: string, host = `${slug}.${APP_DOMAIN}`): Promise<string> {
  const r = await sdkFor(w.cf, 2).dns.records.create({
    zone_id: w.cf.zoneId,
    type: 'CNAME',
    name: host,
    content: tunnelTarget(tunnelId),
    proxied: true,
    ttl: 1,
    comment: dnsComment(env, orgId, slug),
  });
  return r.id;
}

/** Every call that reached AWS or Cloudflare from now on (reads included). */
export function allCalls(w: ApplyWorld): () => number {
  const a = w.aws.calls.length;
  const c = w.cf.requests.length;
  return () => w.aws.calls.length - a + (w.cf.requests.length - c);
}

export function ageFirstSightings(w: ApplyWorld, at = '2020-01-01T00:00:00.000Z'): void {
  const conn = new Database(w.db);
  try {
    conn.prepare('UPDATE first_seen SET seen_at = ?').run(at);
  } finally {
    conn.close();
  }
}
