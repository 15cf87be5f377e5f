/**
 * `drift --fix` and the tenant IAM instance profile (EC2_TENANT_IAM_PROFILE), end to end: the
 * example fleet applied to moto (behind the fault proxy, which makes ReplaceIamInstanceProfile-
 * Association move the instance as AWS does) and the Cloudflare double; the profile taken away
 * or swapped from outside with the SDK, as an operator's console would; drift reports it, --fix
 * associates or replaces it under the lease with an audit row, a check from outside shows the
 * association, and the next drift is clean.
 */
import Database from 'better-sqlite3';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftCommandWith } from '../../src/cli/drift.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { DriftResult } from '../../src/drift/model.js';
import { virtualClock } from '../apply/harness.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

const OTHER_PROFILE = 'someone-elses-profile';

describe('tenantform drift --fix: the IAM instance profile', () => {
  let w: ApplyWorld;
  let profile: string;
  beforeAll(async () => {
    w = await startApplyWorld();
    profile = w.aws.seed.instanceProfileName;
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    await w.check.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: OTHER_PROFILE }));
  });
  afterAll(async () => {
    await w?.close();
  });

  const drift = async (args: string[]): Promise<{ code: number; result: DriftResult; stdout: string }> => {
    const io = memoryIo({ env: w.env, cwd: w.dir });
    const code = await main(['drift', '--db', w.db, '--json', ...args], io, [driftCommandWith({ clock: virtualClock() })]);
    const stdout = io.out.join('');
    const stderr = io.err.join('');
    for (const s of w.envSecrets) {
      expect(stdout).not.toContain(s);
      expect(stderr).not.toContain(s);
    }
    return { code, stdout, result: JSON.parse(stdout) as DriftResult };
  };
  const instanceOf = async (orgId: string, role: 'tenant' | 'workspace'): Promise<Instance> => (await w.instances(orgId)).find((i) => tagsOf(i).Role === role)!;
  const associationsOf = async (instanceId: string) =>
    (await w.check.ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] })))
      .IamInstanceProfileAssociations ?? [];
  const profileName = (arn: string | undefined) => arn?.split('/').pop();
  /** The instance's profile, read from outside both ways: its association and DescribeInstances. */
  const profileOf = async (orgId: string, role: 'tenant' | 'workspace') => {
    const instance = await instanceOf(orgId, role);
    const current = (await associationsOf(instance.InstanceId!)).filter((a) => a.State === 'associated' || a.State === 'associating');
    return { association: current.map((a) => profileName(a.IamInstanceProfile?.Arn)), instance: profileName(instance.IamInstanceProfile?.Arn) };
  };
  const fixRows = (runId: string) => {
    const conn = new Database(w.db, { readonly: true });
    try {
      return conn.prepare('SELECT kind, resource_id, state, details FROM tenant_resources WHERE run_id = ?').all(runId) as Array<{
        kind: string;
        resource_id: string;
        state: string;
        details: string | null;
      }>;
    } finally {
      conn.close();
    }
  };

  it('a profile disassociated from outside: drift reports it, --fix associates it, the next drift is clean', async () => {
    const acme = await instanceOf(ORG.acme, 'tenant');
    const [association] = await associationsOf(acme.InstanceId!);
    await w.check.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association!.AssociationId }));
    expect(await profileOf(ORG.acme, 'tenant')).toEqual({ association: [], instance: undefined });

    const seen = await drift([]);
    expect(seen.code).toBe(2);
    expect(seen.result.findings).toEqual([
      expect.objectContaining({
        slug: 'acme',
        code: 'instanceProfile',
        resource: 'instance',
        resourceId: acme.InstanceId,
        expected: profile,
        actual: '(none)',
        repair: 'inPlace',
      }),
    ]);
    expect(seen.result.findings[0]!.workspace).toBeUndefined();

    const traffic = w.mark();
    const fixed = await drift(['--fix']);
    expect(traffic().aws).toEqual(['AssociateIamInstanceProfile']);
    expect(fixed.result.fix!.outcomes).toEqual([
      expect.objectContaining({
        slug: 'acme',
        resourceId: acme.InstanceId,
        codes: ['instanceProfile'],
        status: 'fixed',
        detail: `instance profile ${profile} associated`,
      }),
    ]);
    // The second look, after the repair: nothing left.
    expect(fixed.result.findings).toEqual([]);
    expect(fixed.code).toBe(0);

    expect(await profileOf(ORG.acme, 'tenant')).toEqual({ association: [profile], instance: profile });
    expect(w.runs().at(-1)).toMatchObject({ command: 'drift --fix', status: 'succeeded', exit_code: 0 });
    expect(fixRows(fixed.result.fix!.runId)).toEqual([
      expect.objectContaining({ kind: 'instance', resource_id: acme.InstanceId, state: 'updated', details: expect.stringContaining(`"instanceProfile":"${profile}"`) }),
    ]);
    expect(JSON.parse(fixRows(fixed.result.fix!.runId)[0]!.details!)).toMatchObject({ was: '(none)', by: 'drift --fix' });

    const again = w.mark();
    const clean = await drift([]);
    expect(clean.result.findings).toEqual([]);
    expect(clean.code).toBe(0);
    expect(again()).toEqual({ aws: [], cf: [] });
  });

  it("another profile associated from outside (on a workspace): --fix replaces the association with the tenant profile's", async () => {
    const ops = await instanceOf(ORG.globex, 'workspace');
    const [association] = await associationsOf(ops.InstanceId!);
    await w.check.ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: association!.AssociationId, IamInstanceProfile: { Name: OTHER_PROFILE } }));
    expect(await profileOf(ORG.globex, 'workspace')).toEqual({ association: [OTHER_PROFILE], instance: OTHER_PROFILE });

    const seen = await drift([]);
    expect(seen.code).toBe(2);
    expect(seen.result.findings).toEqual([
      expect.objectContaining({ slug: 'globex', workspace: 'ops', code: 'instanceProfile', resourceId: ops.InstanceId, expected: profile, actual: OTHER_PROFILE }),
    ]);

    const traffic = w.mark();
    const fixed = await drift(['--fix']);
    // One call: the instance is never without a profile in between.
    expect(traffic().aws).toEqual(['ReplaceIamInstanceProfileAssociation']);
    expect(fixed.result.fix!.outcomes).toEqual([
      expect.objectContaining({
        slug: 'globex',
        workspace: 'ops',
        codes: ['instanceProfile'],
        status: 'fixed',
        detail: `instance profile association of ${OTHER_PROFILE} replaced by ${profile}`,
      }),
    ]);
    expect(fixed.result.findings).toEqual([]);
    expect(fixed.code).toBe(0);

    expect(await profileOf(ORG.globex, 'workspace')).toEqual({ association: [profile], instance: profile });
    const rows = fixRows(fixed.result.fix!.runId);
    expect(rows).toEqual([expect.objectContaining({ kind: 'instance', resource_id: ops.InstanceId, state: 'updated' })]);
    expect(JSON.parse(rows[0]!.details!)).toMatchObject({ instanceProfile: profile, was: OTHER_PROFILE, by: 'drift --fix' });

    const clean = await drift([]);
    expect(clean.result.findings).toEqual([]);
    expect(clean.code).toBe(0);
  });

  it('a repair that fails (AssociateIamInstanceProfile keeps answering 500) is reported failed, exit 4, with the finding still there; the next --fix repairs it', async () => {
    const umbrella = await instanceOf(ORG.umbrella, 'tenant');
    const [association] = await associationsOf(umbrella.InstanceId!);
    await w.check.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association!.AssociationId }));
    const fault = w.aws.faults.inject({ kind: 'serverError', service: 'ec2', action: 'AssociateIamInstanceProfile' });
    let fixed: Awaited<ReturnType<typeof drift>>;
    try {
      fixed = await drift(['--fix']);
    } finally {
      fault.remove();
    }
    expect(fault.hits).toBeGreaterThan(0);
    expect(fixed.code).toBe(4);
    expect(fixed.result.fix!.outcomes).toEqual([expect.objectContaining({ slug: 'umbrella', codes: ['instanceProfile'], status: 'failed' })]);
    expect(fixed.result.findings).toEqual([expect.objectContaining({ slug: 'umbrella', code: 'instanceProfile', actual: '(none)' })]);
    // The next --fix, with the fault gone, repairs it.
    const retried = await drift(['--fix']);
    expect(retried.code).toBe(0);
    expect(await profileOf(ORG.umbrella, 'tenant')).toEqual({ association: [profile], instance: profile });
  });
});
