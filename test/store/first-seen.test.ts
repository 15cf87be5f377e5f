/** First sightings (schema step 3): the first time is kept, other environments are apart, a full observation prunes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';

describe('first sightings', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantform-first-seen-'));
    dirs.push(dir);
    return { path: join(dir, 'state.db'), store: openSqliteStore(join(dir, 'state.db')) };
  };

  it('keeps the first time a key was seen, per environment, across reopening', async () => {
    const { path, store } = open();
    const first = await store.recordSightings('dev', ['securityGroup:sg-1'], '2026-01-01T00:00:00.000Z');
    expect(first.get('securityGroup:sg-1')).toBe('2026-01-01T00:00:00.000Z');
    const again = await store.recordSightings('dev', ['securityGroup:sg-1', 'dnsRecord:r1'], '2026-02-01T00:00:00.000Z');
    expect(Object.fromEntries(again)).toEqual({ 'securityGroup:sg-1': '2026-01-01T00:00:00.000Z', 'dnsRecord:r1': '2026-02-01T00:00:00.000Z' });
    const other = await store.recordSightings('prod', ['securityGroup:sg-1'], '2026-03-01T00:00:00.000Z');
    expect(other.get('securityGroup:sg-1')).toBe('2026-03-01T00:00:00.000Z');
    await store.close();
    const reopened = openSqliteStore(path);
    expect((await reopened.recordSightings('dev', ['securityGroup:sg-1'], '2026-04-01T00:00:00.000Z')).get('securityGroup:sg-1')).toBe('2026-01-01T00:00:00.000Z');
    await reopened.close();
  });

  it('with prune, forgets the keys a full observation no longer saw (a resource back later is new again)', async () => {
    const { store } = open();
    await store.recordSightings('dev', ['a', 'b'], '2026-01-01T00:00:00.000Z');
    await store.recordSightings('dev', ['a'], '2026-02-01T00:00:00.000Z', { prune: true });
    const later = await store.recordSightings('dev', ['a', 'b'], '2026-03-01T00:00:00.000Z');
    expect(Object.fromEntries(later)).toEqual({ a: '2026-01-01T00:00:00.000Z', b: '2026-03-01T00:00:00.000Z' });
    await store.close();
  });
});
