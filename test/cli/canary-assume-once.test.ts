/**
 * One AssumeRole per run: the canary account's clients (EC2, Secrets Manager, SSM, IAM, Service
 * Quotas) share one memoized credential provider, so a plan or an apply asks STS for the role
 * once, whatever the number of clients it touches; a refused role is asked once and reported once.
 * Counted from outside, in the fault proxy's call record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseAssumeRole, startCanaryAccount, type CanaryAccount } from '../support/canary-account.js';
import { startApplyWorld, type ApplyWorld } from './apply-world.js';

describe('the canary role is assumed once per run', () => {
  let w: ApplyWorld;
  let c: CanaryAccount;
  beforeAll(async () => {
    w = await startApplyWorld();
    c = await startCanaryAccount(w.aws);
    Object.assign(w.env, c.env);
  });
  afterAll(async () => {
    c?.close();
    await w?.close();
  });

  const during = async (args: string[]) => {
    const from = w.aws.calls.length;
    const res = await w.run(args);
    const calls = w.aws.calls.slice(from);
    return { res, calls, assumed: calls.filter((x) => x.service === 'sts' && x.action === 'AssumeRole') };
  };

  it('a plan assumes it once, though it reads the canary account with several clients', async () => {
    const { res, calls, assumed } = await during(['plan']);
    expect(res.code).toBe(2);
    // EC2, Secrets Manager and Service Quotas were all called in the canary account…
    const services = new Set(calls.filter((x) => x.account === c.accountId && x.service !== 'sts').map((x) => x.service));
    expect(services.size).toBeGreaterThanOrEqual(3);
    // …with one AssumeRole between them.
    expect(assumed.map((x) => x.params.RoleArn)).toEqual([c.roleArn]);
  });

  it('an apply assumes it once: observation, wiring preflight (IAM), launches (EC2, Secrets Manager) and SSM', async () => {
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const fleetFile = join(w.dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      readFileSync(fleetFile, 'utf8').replace('canaryTenantImage: ghcr.io/example/platform:1.5.0-rc.1', 'canaryTenantImage: ghcr.io/example/platform:1.5.0-rc.2'),
    );
    const { res, calls, assumed } = await during(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    const services = new Set(calls.filter((x) => x.account === c.accountId && x.service !== 'sts').map((x) => x.service));
    expect(services).toContain('ssm');
    expect(services).toContain('ec2');
    expect(services.size).toBeGreaterThanOrEqual(3);
    expect(assumed).toHaveLength(1);
  });

  it('a refused role is asked once and reported once', async () => {
    const fault = refuseAssumeRole(w.aws);
    try {
      const tenantFile = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
      writeFileSync(tenantFile, readFileSync(tenantFile, 'utf8').replace('canary: true', 'canary: true\npower: stopped'));
      const { res, assumed } = await during(['apply', '--auto-approve']);
      // Applied what could be (nothing here), the canary unobserved: exit 4, as apply-canary.test.ts's refused role.
      expect(res.code).toBe(4);
      expect(assumed).toHaveLength(1);
      const out = res.stdout + res.stderr;
      expect(out).toContain(c.roleArn);
      expect(out.split('the role could not be assumed')).toHaveLength(2);
      expect(out).not.toMatch(/\n\s+at /);
    } finally {
      fault.remove();
    }
  });
});
