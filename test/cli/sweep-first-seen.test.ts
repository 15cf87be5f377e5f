/**
 * First sightings from apply's observation: an apply notes, in the store, when it first saw each
 * resource the cloud gives no creation time (security groups, bundles, records), as sweep does.
 * A group an apply saw and that is later orphaned is aged from the apply's sighting, so the first
 * sweep that finds it can already judge it old enough; without apply's sighting it would be "too
 * young" at the default 30 minutes.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretName } from '../../src/contract.js';
import type { SweepReport } from '../../src/sweep/model.js';
import { ORG, startApplyWorld, type ApplyWorld } from './apply-world.js';
import { ageFirstSightings, sweep } from './sweep-world.js';

function sightings(db: string): Map<string, string> {
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.prepare('SELECT key, seen_at FROM first_seen WHERE environment = ?').all('dev') as Array<{ key: string; seen_at: string }>;
    return new Map(rows.map((r) => [r.key, r.seen_at]));
  } finally {
    conn.close();
  }
}

describe('first sightings from apply', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('an apply notes what it observed; a sweep ages an orphaned group from that sighting', async () => {
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    // The next apply observes what the first one made (nothing to do) and notes it.
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    const groups = (await w.instances(ORG.globex)).flatMap((i) => (i.SecurityGroups ?? []).map((g) => g.GroupId!));
    expect(groups.length).toBeGreaterThan(0);
    const seen = sightings(w.db);
    for (const g of groups) expect(seen.has(`securityGroup:${g}`)).toBe(true);
    expect(seen.has(`secret:${secretName('dev', ORG.globex)}`)).toBe(true);

    // A later apply keeps the first sighting.
    ageFirstSightings(w);
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(sightings(w.db).get(`securityGroup:${groups[0]}`)).toBe('2020-01-01T00:00:00.000Z');

    // globex leaves the repository; the first sweep that sees its leftovers judges them by apply's sighting.
    const repo = mkdtempSync(join(tmpdir(), 'tenantform-first-seen-'));
    try {
      cpSync(join(w.dir, 'fleet.yaml'), join(repo, 'fleet.yaml'));
      cpSync(join(w.dir, 'tenants'), join(repo, 'tenants'), { recursive: true });
      rmSync(join(repo, 'tenants', 'globex'), { recursive: true });
      const res = await sweep(w, ['--repo', repo, '--json']);
      expect(res.code).toBe(2);
      const r = JSON.parse(res.stdout) as SweepReport;
      for (const g of groups) {
        const o = r.orphans.find((x) => x.id === g);
        expect(o).toMatchObject({ kind: 'securityGroup', reason: 'undeclaredTenant', ageSource: 'firstSeen', since: '2020-01-01T00:00:00.000Z', verdict: 'delete' });
      }
      expect(r.orphans.find((x) => x.id === secretName('dev', ORG.globex))?.verdict).toBe('delete');
      // An instance's age is its launch time (just now): still too young at the default 30 minutes.
      expect(r.orphans.filter((x) => x.kind === 'instance').every((x) => x.verdict === 'tooYoung')).toBe(true);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
