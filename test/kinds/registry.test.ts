/**
 * The kind registry (src/kinds.ts) is the one vocabulary: the plan's step resources, the audit
 * kinds and the store kinds are its subsets, and a failed operation is filed under a kind by the
 * registry's explicit operation lists, never by a pattern over names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_KINDS, FINGERPRINTED_KINDS, KINDS, RESOURCE_KINDS, STORED_KINDS, kindLabel, kindOfOperation } from '../../src/kinds.js';
import { FINGERPRINTS } from '../../src/plan/kinds.js';
import { ACT } from '../../src/apply/kinds.js';

const root = join(import.meta.dirname, '..', '..');

describe('the kind vocabulary', () => {
  it('derives the audit, store and fingerprint vocabularies from one list', () => {
    expect(RESOURCE_KINDS).toEqual(['staleArtifacts', 'tunnel', 'dnsRecord', 'ingress', 'secret', 'securityGroup', 'instance', 'volume', 'tags', 'command']);
    expect(AUDIT_KINDS).toEqual(['tunnel', 'dnsRecord', 'ingress', 'secret', 'securityGroup', 'instance', 'command']);
    expect([...STORED_KINDS].sort()).toEqual(['dnsRecord', 'ingress', 'instance', 'secret', 'securityGroup', 'tunnel']);
    expect(FINGERPRINTED_KINDS).toEqual(['tunnel', 'dnsRecord', 'secret', 'securityGroup', 'instance']);
    expect(Object.keys(FINGERPRINTS).sort()).toEqual([...FINGERPRINTED_KINDS].sort());
    expect(Object.keys(ACT).sort()).toEqual([...RESOURCE_KINDS].sort());
  });

  it('labels kinds for people, singular and plural', () => {
    expect(kindLabel('securityGroup', 1)).toBe('security group');
    expect(kindLabel('securityGroup', 3)).toBe('security groups');
    expect(kindLabel('secret', 2)).toBe('secret bundles');
  });

  it('files operations by the explicit lists, not by what their names contain', () => {
    expect(kindOfOperation('AuthorizeSecurityGroupIngress')).toBe('securityGroup');
    expect(kindOfOperation('update tunnel configuration')).toBe('ingress');
    expect(kindOfOperation('clean tunnel connections')).toBe('tunnel');
    expect(kindOfOperation('TagResource')).toBe('secret');
    expect(kindOfOperation('SendCommand')).toBe('command');
    expect(KINDS.command.storedAs).toBe('instance');
    // A name that merely reads like a kind is not one.
    expect(kindOfOperation('secret-labs tunnel')).toBeUndefined();
    expect(kindOfOperation('CreateTags')).toBeUndefined();
  });

  it('knows every Cloudflare operation the act steps name (an unlisted one would be filed on the instance)', () => {
    const dir = join(root, 'src', 'apply');
    const ops = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/cloudflareCall\(\s*ctx,\s*'([^']+)'/g)) ops.add(m[1]!);
    }
    expect(ops.size).toBeGreaterThan(5);
    expect([...ops].filter((op) => kindOfOperation(op) === undefined)).toEqual([]);
  });
});

describe('kinds of live ids', () => {
  it('reads an EC2 id by the prefix the registry records, and nothing else', async () => {
    const { kindOfLiveId } = await import('../../src/kinds.js');
    expect(kindOfLiveId('i-0123456789abcdef0')).toBe('instance');
    expect(kindOfLiveId('sg-0123abcd')).toBe('securityGroup');
    expect(kindOfLiveId('arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenantform/dev/x')).toBeUndefined();
    expect(kindOfLiveId('tenantform/dev/tenants/5f0c/bootstrap')).toBeUndefined();
  });
});
