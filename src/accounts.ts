/**
 * The AWS accounts a fleet lives in: the main one (the ambient credentials) and, when
 * CANARY_ROLE_ARN, CANARY_REGION, CANARY_VPC_ID and CANARY_SUBNET_ID are all set, the canary
 * account reached by assuming that role. Canary tenants (`canary: true`) and their workspaces live
 * in the canary account then; everything else, and every tenant when it is not configured, in main.
 * Cloudflare is one account and one zone for both.
 *
 * Objects and actions carry `account` only when the canary account is configured; absent means
 * `main` (so plans, inventories and change sets made without a canary account read as before).
 */

export const ACCOUNTS = ['main', 'canary'] as const;
export type Account = (typeof ACCOUNTS)[number];

/** Which account, with its id (or profile name for main when unknown) and region, for messages and labels. */
export interface AccountInfo {
  account: Account;
  id: string;
  region: string;
  /** The role assumed into the account (canary only). */
  roleArn?: string;
}

/** What observing one account found out about it. */
export interface AccountObservation extends AccountInfo {
  observed: boolean;
  /** Why it could not be observed (a refused AssumeRole), naming the role. */
  error?: string;
}

/** The account id in an IAM role ARN (`arn:aws:iam::<id>:role/<name>`). */
export function roleAccountId(roleArn: string): string {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1] ?? roleArn;
}

/** Where a tenant (and its workspaces) belongs. */
export function accountFor(canary: boolean, canaryConfigured: boolean): Account {
  return canary && canaryConfigured ? 'canary' : 'main';
}

export function accountOf(x: { account?: Account | undefined }): Account {
  return x.account ?? 'main';
}

/** `[canary 111111111111/us-east-2]`; `[main]` when the main account's id is not known. */
export function accountLabel(info: Pick<AccountInfo, 'account' | 'id' | 'region'> | undefined, account: Account): string {
  if (!info) return `[${account}]`;
  return /^\d{12}$/.test(info.id) ? `[${account} ${info.id}/${info.region}]` : `[${account} ${info.region}]`;
}

/** The canary account's counterparts of the main account's wiring variables, for messages. */
export const CANARY_VARIABLES: Readonly<Record<string, string>> = {
  EC2_VPC_ID: 'CANARY_VPC_ID',
  EC2_SUBNET_ID: 'CANARY_SUBNET_ID',
  EIC_ENDPOINT_SG_ID: 'CANARY_EIC_ENDPOINT_SG_ID',
  EC2_TENANT_IAM_PROFILE: 'CANARY_TENANT_IAM_PROFILE',
  AWS_REGION: 'CANARY_REGION',
};

/** The variable that sets `mainName`'s value in `account`. */
export function variableIn(account: Account | undefined, mainName: string): string {
  return account === 'canary' ? (CANARY_VARIABLES[mainName] ?? mainName) : mainName;
}
