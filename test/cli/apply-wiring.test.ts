/**
 * The wiring preflight: with any referenced piece of wiring the cloud does not know, apply exits 1
 * naming the variable, and makes no mutating call to AWS or Cloudflare (the proxy's and the
 * double's call logs show it). Every case runs against the same untouched world.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApplyWorld, type ApplyWorld } from './apply-world.js';

let w: ApplyWorld;
beforeAll(async () => {
  w = await startApplyWorld();
});
afterAll(async () => {
  await w?.close();
});

async function applyWith(env: Record<string, string | undefined>) {
  const merged = Object.fromEntries(Object.entries({ ...w.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
  const traffic = w.mark();
  const res = await w.run(['apply', '--auto-approve'], { io: { env: merged } });
  return { ...res, mutating: traffic() };
}

const NOTHING = { aws: [], cf: [] };

describe('apply refuses wiring the cloud does not know, before any change', () => {
  it('a VPC that does not exist: EC2_VPC_ID', async () => {
    const res = await applyWith({ EC2_VPC_ID: 'vpc-0123456789abcdef0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EC2_VPC_ID vpc-0123456789abcdef0 does not exist');
    expect(res.mutating).toEqual(NOTHING);
  });

  it('a subnet that does not exist: EC2_SUBNET_ID', async () => {
    const res = await applyWith({ EC2_SUBNET_ID: 'subnet-0123456789abcdef0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EC2_SUBNET_ID subnet-0123456789abcdef0 does not exist');
    expect(res.mutating).toEqual(NOTHING);
  });

  it('a subnet of another VPC: EC2_SUBNET_ID', async () => {
    const other = (await w.check.ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await w.check.ec2.send(new CreateSubnetCommand({ VpcId: other, CidrBlock: '10.30.1.0/24' }))).Subnet!.SubnetId!;
    const res = await applyWith({ EC2_SUBNET_ID: subnet });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`EC2_SUBNET_ID ${subnet} is in ${other}, not in EC2_VPC_ID ${w.env.EC2_VPC_ID}`);
    expect(res.mutating).toEqual(NOTHING);
  });

  it('an instance profile that does not exist: EC2_TENANT_IAM_PROFILE', async () => {
    const res = await applyWith({ EC2_TENANT_IAM_PROFILE: 'no-such-profile' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EC2_TENANT_IAM_PROFILE no-such-profile is not an IAM instance profile');
    expect(res.mutating).toEqual(NOTHING);
  });

  it('an EIC endpoint group that does not exist: EIC_ENDPOINT_SG_ID', async () => {
    const res = await applyWith({ EIC_ENDPOINT_SG_ID: 'sg-0123456789abcdef0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EIC_ENDPOINT_SG_ID sg-0123456789abcdef0 does not exist');
    expect(res.mutating).toEqual(NOTHING);
  });

  it('an AMI the plan launches that does not exist: fleet.yaml defaultAmi', async () => {
    const path = join(w.dir, 'fleet.yaml');
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, original.replace(/^defaultAmi: .*$/m, 'defaultAmi: ami-0123456789abcdef0'));
    try {
      const res = await applyWith({});
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('AMI ami-0123456789abcdef0 (fleet.yaml defaultAmi/amiPins, or EC2_AMI) does not exist');
      expect(res.stderr).toContain('tenant acme');
      expect(res.mutating).toEqual(NOTHING);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('a Cloudflare zone that does not exist: CLOUDFLARE_ZONE_ID', async () => {
    const zone = '0123456789abcdef0123456789abcdef';
    const res = await applyWith({ CLOUDFLARE_ZONE_ID: zone });
    expect(res.code).toBe(1);
    // Observing reads the zone's DNS records before any plan exists: that read names the variable.
    expect(res.stderr).toContain('CLOUDFLARE_ZONE_ID is not a zone this API token can read');
    expect(res.stderr).toContain(zone);
    expect(res.mutating).toEqual(NOTHING);
  });

  it('neither EC2_VPC_ID nor EC2_SECURITY_GROUP: no security group to give instances', async () => {
    const res = await applyWith({ EC2_VPC_ID: undefined, EC2_SECURITY_GROUP: undefined });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EC2_VPC_ID is not set and neither is EC2_SECURITY_GROUP');
    expect(res.mutating).toEqual(NOTHING);
  });

  it('lists every problem at once', async () => {
    const res = await applyWith({ EC2_VPC_ID: 'vpc-0123456789abcdef0', EC2_TENANT_IAM_PROFILE: 'no-such-profile' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('EC2_VPC_ID vpc-0123456789abcdef0 does not exist');
    expect(res.stderr).toContain('EC2_TENANT_IAM_PROFILE no-such-profile');
    // The seeded subnet is not in the bogus VPC either.
    expect(res.stderr).toContain(`EC2_SUBNET_ID ${w.env.EC2_SUBNET_ID} is in`);
    expect(res.mutating).toEqual(NOTHING);
  });

  it('with the seeded wiring the same fleet applies, exit 0', async () => {
    const res = await applyWith({});
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
  });
});
