/**
 * The act half of the kind registry (src/kinds.ts has the names, src/plan/kinds.ts what a plan
 * fingerprints): per kind, the act module that owns it and the functions that ensure (create or
 * adopt, idempotently) and delete it. The composites (src/apply/tenant.ts, workspace.ts,
 * lifecycle.ts) call these; the table makes "which function acts on a kind" one look-up, and the
 * compiler asks for an entry when a kind is added. `undefined`: the kind has no such step of its
 * own (an ingress configuration goes with its tunnel, a command is only run).
 */
import type { ResourceKind } from '../kinds.js';
import { runShellCommand } from './command.js';
import { deleteRecord, ensureCname } from './dns.js';
import { ensureIngress } from './ingress.js';
import { ensureInstance, terminateInstances } from './instance.js';
import { deleteBundle, ensureBundle } from './secret.js';
import { deleteGroup, ensureGroup } from './security-group.js';
import { cleanStaleSlugArtifacts } from './tenant.js';
import { deleteTunnel, ensureTunnel } from './tunnel.js';
import { setResourceTags } from './update.js';
import { growRootVolume } from './volume.js';

/** Any act function; each kind's own signature is the function's. */
type ActFn = (...args: never[]) => Promise<unknown>;

export interface ActEntry {
  /** The module under src/apply that owns the kind's act steps. */
  module: string;
  ensure: ActFn | undefined;
  delete: ActFn | undefined;
}

export const ACT = {
  staleArtifacts: { module: 'tenant.ts', ensure: undefined, delete: cleanStaleSlugArtifacts },
  tunnel: { module: 'tunnel.ts', ensure: ensureTunnel, delete: deleteTunnel },
  dnsRecord: { module: 'dns.ts', ensure: ensureCname, delete: deleteRecord },
  ingress: { module: 'ingress.ts', ensure: ensureIngress, delete: undefined },
  secret: { module: 'secret.ts', ensure: ensureBundle, delete: deleteBundle },
  securityGroup: { module: 'security-group.ts', ensure: ensureGroup, delete: deleteGroup },
  instance: { module: 'instance.ts', ensure: ensureInstance, delete: terminateInstances },
  volume: { module: 'volume.ts', ensure: growRootVolume, delete: undefined },
  tags: { module: 'update.ts', ensure: setResourceTags, delete: undefined },
  command: { module: 'command.ts', ensure: runShellCommand, delete: undefined },
} as const satisfies Record<ResourceKind, ActEntry>;
