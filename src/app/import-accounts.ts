/**
 * import with a canary account (CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID, CANARY_SUBNET_ID
 * all set): the control plane launched its canary tenants there, so both accounts are observed
 * (each in its own VPC; Cloudflare is one for both) and each tenant found carries the account it
 * lives in. `--write` marks the canary account's tenants `canary: true`; `--adopt` stamps each in
 * its own account, with that account's clients, and holds back a tenant whose declared `canary`
 * does not match where it lives (adopting it would plan a move). A role that cannot be assumed
 * ends the import with that one error: the canary tenants would otherwise look absent.
 */
import type { Account } from '../accounts.js';
import type { AwsClients } from '../aws/clients.js';
import type { ImportObservation } from '../live/import/model.js';
import { observeControlPlane } from '../live/import/observe.js';
import type { LiveReaders } from '../live/readers.js';
import type { CloudSession } from './ports.js';

export interface ImportObserveOptions {
  environment: string;
  appDomain: string;
  bundleName: string;
  /** EC2_VPC_ID and CANARY_VPC_ID. */
  vpcId: string | undefined;
  canaryVpcId: string | undefined;
}

export async function observeImportAccounts(session: CloudSession, opts: ImportObserveOptions): Promise<ImportObservation> {
  const base = { environment: opts.environment, appDomain: opts.appDomain, bundleName: opts.bundleName };
  const main = await observeControlPlane(session.readers, { ...base, vpcId: opts.vpcId });
  if (!session.canary) return main;
  await session.canary.ready();
  const canary = await observeControlPlane(session.canary.readers, { ...base, vpcId: opts.canaryVpcId });
  return {
    tenants: [...main.tenants, ...canary.tenants.map((t) => ({ ...t, account: 'canary' as const }))],
    incomplete: [...main.incomplete, ...canary.incomplete],
    alreadyManaged: main.alreadyManaged + canary.alreadyManaged,
  };
}

/** The readers (for what tenantform already manages) and the clients (for the steps) of each account. */
export function importAccounts(session: CloudSession): Array<{ account: Account; readers: LiveReaders; aws: AwsClients }> {
  return [
    { account: 'main', readers: session.readers, aws: session.aws },
    ...(session.canary ? [{ account: 'canary' as const, readers: session.canary.readers, aws: session.canary.aws }] : []),
  ];
}

/** Why a tenant is held back from adoption: declared `canary` says another account than the one it lives in. */
export function accountMismatch(declaredCanary: boolean, account: Account | undefined, configured: boolean, file: string): string | undefined {
  if (!configured) return undefined;
  const lives = account ?? 'main';
  const wants: Account = declaredCanary ? 'canary' : 'main';
  if (lives === wants) return undefined;
  return `it lives in the ${lives} account, but ${file} declares canary: ${declaredCanary}; adopting it would plan a move — set canary: ${lives === 'canary'} first`;
}
