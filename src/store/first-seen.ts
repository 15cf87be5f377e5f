/**
 * First sightings: when the store first saw a resource that the cloud gives no creation time
 * (security groups, bundles, DNS records), keyed by an opaque string (`<kind>:<id>`). Sweep reads
 * an orphan's age from here, so a resource an apply is making right now is "too young", never
 * deleted. A full observation also forgets the keys it no longer saw, which keeps the table as
 * large as the fleet.
 */
import type Database from 'better-sqlite3';

export interface FirstSeenStore {
  /**
   * Notes `at` as the first sighting of every key the environment does not know yet and returns
   * the first sighting of each key. With `prune`, keys of the environment not given are forgotten
   * (only for an observation of the whole environment).
   */
  recordSightings(environment: string, keys: readonly string[], at: string, opts?: { prune?: boolean }): Promise<Map<string, string>>;
}

/** The SQLite implementation over an open, migrated database (one transaction). */
export function recordSightingsSqlite(db: Database.Database, environment: string, keys: readonly string[], at: string, prune: boolean): Map<string, string> {
  const insert = db.prepare(`INSERT OR IGNORE INTO first_seen (environment, key, seen_at) VALUES (?, ?, ?)`);
  const read = db.prepare(`SELECT key, seen_at FROM first_seen WHERE environment = ?`);
  return db
    .transaction(() => {
      for (const k of keys) insert.run(environment, k, at);
      const wanted = new Set(keys);
      const out = new Map<string, string>();
      const gone: string[] = [];
      for (const row of read.all(environment) as Array<{ key: string; seen_at: string }>) {
        if (wanted.has(row.key)) out.set(row.key, row.seen_at);
        else gone.push(row.key);
      }
      if (prune) {
        const del = db.prepare(`DELETE FROM first_seen WHERE environment = ? AND key = ?`);
        for (const k of gone) del.run(environment, k);
      }
      return out;
    })
    .immediate();
}
