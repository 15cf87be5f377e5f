/**
 * On a CI runner, a SQLite store inside the checkout lives and dies with that checkout: another
 * job's checkout has its own lock, so two jobs can apply at once, and the audit trail is thrown
 * away with the runner. Apply says so in one line (the CLI knows whether it runs in CI and says
 * `ci`; this module reads no environment).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type { AuditStore } from '../store/model.js';

export function localStoreWarning(store: Pick<AuditStore, 'kind' | 'location'>, repoDir: string, ci: boolean): string | undefined {
  if (!ci || store.kind !== 'sqlite' || store.location === ':memory:') return undefined;
  const rel = relative(resolve(repoDir), resolve(store.location));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return `the audit database ${store.location} is inside this checkout: on CI the lock and the audit trail are local to this runner (other jobs can apply at once, and the trail goes with the runner); pass --db postgres://… or set DATABASE_URL to share them`;
}
