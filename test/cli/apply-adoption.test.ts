/**
 * Adoption settles: what apply finds by its deterministic name without the contract's tags (made
 * by hand with the SDK here, as an operator would with awscli) is stamped with every contract tag,
 * so the next plan is clean. Checked from outside with the SDK.
 */
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { CreateSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { secretName, tenantSecurityGroupName, tunnelName, workspaceSecurityGroupName } from '../../src/contract.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

let w: ApplyWorld;
beforeAll(async () => {
  w = await startApplyWorld();
});
afterAll(async () => {
  await w?.close();
});

describe('apply adopts same-named leftovers that carry no tags', () => {
  let groupId: string;
  let secretArn: string;
  let workspaceGroupId: string;
  let tunnelId: string;
  const RESEARCH = '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001';

  it('stamps every contract tag on an untagged group and bundle, and the next plan is clean', async () => {
    // acme: a group with the contract name and no tags; globex: a bundle with the contract name and no tags.
    groupId = (
      await w.check.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: tenantSecurityGroupName('dev', ORG.acme), Description: 'made by hand', VpcId: w.aws.seed.vpcId }),
      )
    ).GroupId!;
    workspaceGroupId = (
      await w.check.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: workspaceSecurityGroupName('dev', ORG.acme, RESEARCH), Description: 'made by hand', VpcId: w.aws.seed.vpcId }),
      )
    ).GroupId!;
    // initech: a tunnel with the contract name (tunnels carry no tags: the name is the identity).
    const cf = new Cloudflare({ apiToken: w.cf.apiToken, baseURL: w.cf.baseURL, maxRetries: 0 });
    tunnelId = (await cf.zeroTrust.tunnels.cloudflared.create({ account_id: w.cf.accountId, name: tunnelName('dev', 'initech', ORG.initech), config_src: 'cloudflare' }))
      .id!;
    secretArn = (await w.check.secrets.send(new CreateSecretCommand({ Name: secretName('dev', ORG.globex), SecretString: '{}' }))).ARN!;

    const applied = await w.run(['apply', '--auto-approve']);
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);

    const group = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0]!;
    expect(tagsOf(group)).toMatchObject({
      ManagedBy: 'tenantform',
      Env: 'dev',
      OrgID: ORG.acme,
      OrgSlug: 'acme',
      Role: 'tenant',
      Name: tenantSecurityGroupName('dev', ORG.acme),
      DeletionProtection: 'true',
    });
    // Adopted, not duplicated: the only tenant group of acme.
    const acmeGroups = (
      await w.check.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'tag:OrgID', Values: [ORG.acme] },
            { Name: 'tag:Role', Values: ['tenant'] },
          ],
        }),
      )
    ).SecurityGroups!;
    expect(acmeGroups.map((g) => g.GroupId)).toEqual([groupId]);

    const wsGroup = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [workspaceGroupId] }))).SecurityGroups![0]!;
    expect(tagsOf(wsGroup)).toMatchObject({ ManagedBy: 'tenantform', Env: 'dev', OrgID: ORG.acme, OrgSlug: 'acme', Role: 'workspace', WorkspaceID: RESEARCH });

    const initechTunnels = w.cf.tunnels().filter((t) => t.name.startsWith('tenantform.dev.initech.') && !t.deletedAt);
    expect(initechTunnels.map((t) => [t.id, t.name])).toEqual([[tunnelId, tunnelName('dev', 'initech', ORG.initech)]]);
    const initechRecord = w.cf.dnsRecords().find((r) => r.name.startsWith('initech.'))!;
    expect([initechRecord.content, initechRecord.comment]).toEqual([`${tunnelId}.cfargotunnel.com`, `tenantform env=dev org=${ORG.initech} slug=initech`]);

    const secret = await w.check.secrets.send(new DescribeSecretCommand({ SecretId: secretName('dev', ORG.globex) }));
    expect(secret.ARN).toBe(secretArn);
    expect(tagsOf(secret)).toMatchObject({ ManagedBy: 'tenantform', Env: 'dev', OrgID: ORG.globex, OrgSlug: 'globex', Role: 'tenant', DeletionProtection: 'false' });

    const plan = await w.run(['plan']);
    expect(plan.stdout).toContain('No changes');
    expect(plan.code).toBe(0);
  });

  it('a second apply adopts nothing again and makes no mutating call', async () => {
    const traffic = w.mark();
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });
});
