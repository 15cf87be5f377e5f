/**
 * Crash anywhere, apply again: the tenant converges with exactly one of everything. moto ignores
 * ClientToken here (the faithful correction is switched off), so only find-before-create can
 * prevent a second instance. Also: repairs of partial states, and the restored secret.
 */
import { DeleteSecurityGroupCommand, RevokeSecurityGroupIngressCommand, TerminateInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallGate } from '../../src/apply/context.js';
import { createTenant, repairTenant } from '../../src/apply/tenant.js';
import { secretName, tunnelName } from '../../src/contract.js';
import { APP_DOMAIN, markTraffic, newTenant, orgInstances, startApplyHarness, tagsOf, tenantIntentFor, type ApplyHarness } from './harness.js';

let h: ApplyHarness;
beforeAll(async () => {
  h = await startApplyHarness({ faithful: { clientTokenIdempotency: false } });
});
afterAll(async () => {
  await h?.close();
});

class Killed extends Error {}

/**
 * A gate that lets the named call reach the cloud, then "kills the process": the answer is never
 * used and no later call is made.
 */
function crashAfter(name: string): CallGate {
  let fired = false;
  const after = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    if (fired) throw new Killed('the process is dead');
    const result = await run();
    if (!fired && label === name) {
      fired = true;
      throw new Killed(`killed after ${name}`);
    }
    return result;
  };
  return {
    aws: (service, action, fn) => after(action, () => h.ctx.call.aws(service, action, fn)),
    cloudflare: (op, fn) => after(op, () => h.ctx.call.cloudflare(op, fn)),
  };
}

async function assertExactlyOne(t: { orgId: string; slug: string }): Promise<void> {
  expect(await orgInstances(h, t.orgId)).toHaveLength(1);
  const groups = await h.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [t.orgId] }] }));
  expect(groups.SecurityGroups).toHaveLength(1);
  expect(groups.SecurityGroups![0]!.IpPermissions).toHaveLength(2);
  const secrets = await h.check.secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [secretName('dev', t.orgId)] }] }));
  expect(secrets.SecretList).toHaveLength(1);
  const tunnels = h.cf.tunnels().filter((x) => x.name === tunnelName('dev', t.slug, t.orgId) && x.deletedAt === null);
  expect(tunnels).toHaveLength(1);
  const records = h.cf.dnsRecords().filter((r) => r.name === `${t.slug}.${APP_DOMAIN}`);
  expect(records.map((r) => r.content)).toEqual([`${tunnels[0]!.id}.cfargotunnel.com`]);
  const config = h.cf.configurations(tunnels[0]!.id) as { config: { ingress: unknown[] } };
  expect(config.config.ingress).toHaveLength(2);
}

describe('kill the apply after any mutating call, then apply again', () => {
  const crashPoints = [
    'create tunnel',
    'create DNS record',
    'update tunnel configuration',
    'CreateSecret',
    'CreateSecurityGroup',
    'AuthorizeSecurityGroupIngress',
    'RunInstances',
  ];
  it.each(crashPoints)('converges after a crash right after %s', async (point) => {
    const t = newTenant('crash');
    const intent = tenantIntentFor(h, t);
    const err = await createTenant(h.withGate(crashAfter(point)), intent).catch((e: unknown) => e);
    // The step layer wraps whatever a call throws; the kill is its cause.
    expect(err instanceof Killed || (err as Error).cause instanceof Killed).toBe(true);
    const passwordAfterCrash =
      point === 'CreateSecret' ? (await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString : undefined;
    await createTenant(h.ctx, intent);
    await assertExactlyOne(t);
    if (passwordAfterCrash) {
      // The bundle written before the crash is the one kept: generated once.
      const now = (await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString!;
      expect(JSON.parse(now).DB_PASSWORD).toBe(JSON.parse(passwordAfterCrash).DB_PASSWORD);
    }
  });
});

describe('repairTenant', () => {
  it('rebuilds the instance, CNAME, ingress and a hand-opened group, keeping the generated secrets', async () => {
    const t = newTenant('repair');
    const intent = tenantIntentFor(h, t);
    const first = await createTenant(h.ctx, intent);
    const before = JSON.parse((await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString!);

    await h.check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [first.instanceId] }));
    await h.ctx.cloudflare.client.dns.records.delete(first.dnsRecordId, { zone_id: h.cf.zoneId });
    await h.ctx.cloudflare.client.zeroTrust.tunnels.cloudflared.configurations.update(first.tunnelId, {
      account_id: h.cf.accountId,
      config: { ingress: [{ hostname: '', service: 'http_status:404' }] },
    });
    await h.check.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: first.securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: h.aws.seed.vpcCidr }] }],
      }),
    );
    const { AuthorizeSecurityGroupIngressCommand } = await import('@aws-sdk/client-ec2');
    await h.check.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: first.securityGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );

    const repaired = await repairTenant(h.ctx, intent, [{ resource: 'instance', op: 'create' }]);
    expect(repaired.created.sort()).toEqual(['dnsRecord', 'instance']);
    expect(repaired.instanceId).not.toBe(first.instanceId);
    await assertExactlyOne(t);
    const sg = (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [first.securityGroupId] }))).SecurityGroups![0]!;
    expect(JSON.stringify(sg.IpPermissions)).not.toContain('0.0.0.0/0');
    // Found and put right, not made: recorded as adopted, with its rules noted as changed.
    const groupEvents = h.audit
      .filter((e) => e.orgId === t.orgId && e.kind === 'securityGroup')
      .map((e) => `${e.state}${e.details?.rulesChanged ? ' rulesChanged' : ''}`);
    expect(groupEvents).toEqual(['created', 'adopted rulesChanged']);
    const after = JSON.parse((await h.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', t.orgId) }))).SecretString!);
    expect(after).toEqual(before);
  });

  it('restores a bundle scheduled for deletion instead of regenerating it', async () => {
    const t = newTenant('restore');
    const intent = tenantIntentFor(h, t);
    await createTenant(h.ctx, intent);
    const name = secretName('dev', t.orgId);
    const before = (await h.check.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    await h.check.secrets.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect((await h.check.secrets.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeDefined();

    await repairTenant(h.ctx, intent, [{ resource: 'secret', op: 'restore' }]);
    expect((await h.check.secrets.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
    expect((await h.check.secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(before);
    expect(h.audit.filter((e) => e.orgId === t.orgId && e.kind === 'secret').map((e) => e.state)).toEqual(['created', 'restored']);
  });

  it('stamps DeletionProtection on a protected tenant’s adopted group and bundle, once', async () => {
    const t = newTenant('protect');
    const first = await createTenant(h.ctx, tenantIntentFor(h, t));
    const name = secretName('dev', t.orgId);
    const protectedIntent = { ...tenantIntentFor(h, t), deletionProtection: true };

    await repairTenant(h.ctx, protectedIntent);
    const sg = (await h.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [first.securityGroupId] }))).SecurityGroups![0]!;
    expect(tagsOf(sg).DeletionProtection).toBe('true');
    expect(tagsOf(await h.check.secrets.send(new DescribeSecretCommand({ SecretId: name }))).DeletionProtection).toBe('true');
    const stamps = h.audit.filter((e) => e.orgId === t.orgId && e.details?.tags === 'DeletionProtection');
    expect(stamps.map((e) => `${e.kind} ${e.resourceId} ${e.state}`).sort()).toEqual([`secret ${name} updated`, `securityGroup ${first.securityGroupId} updated`]);

    // Already stamped: a second repair tags nothing.
    const traffic = markTraffic(h);
    await repairTenant(h.ctx, protectedIntent);
    expect(traffic().awsMutating.filter((a) => a === 'CreateTags' || a === 'TagResource')).toEqual([]);
  });

  it('re-creates a deleted security group and relaunches nothing while the instance stands', async () => {
    const t = newTenant('sg');
    const intent = tenantIntentFor(h, t);
    const first = await createTenant(h.ctx, intent);
    await h.check.ec2.send(new TerminateInstancesCommand({ InstanceIds: [first.instanceId] }));
    // Wait out the emulator's shutting-down hold so the group can go.
    for (let i = 0; i < 5; i++) {
      try {
        await h.check.ec2.send(new DeleteSecurityGroupCommand({ GroupId: first.securityGroupId }));
        break;
      } catch {
        /* DependencyViolation while shutting down */
      }
    }
    const repaired = await repairTenant(h.ctx, intent);
    expect(repaired.created.sort()).toEqual(['instance', 'securityGroup']);
    await assertExactlyOne(t);
  });
});
