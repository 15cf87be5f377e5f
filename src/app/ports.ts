/**
 * What a use case is handed instead of reaching for process-wide state: the variables the wiring
 * is read from (the CLI passes its environment; a daemon passes a job's), a factory for the cloud
 * clients, and a sink for progress. Nothing here is a singleton, so two use cases in one process
 * share only what their caller gives both.
 */
import type { AccountInfo } from '../accounts.js';
import type { AwsClients } from '../aws/clients.js';
import type { CloudflareContext } from '../cloudflare/client.js';
import type { ActionResult } from '../apply/changeset.js';
import type { WaveEvent } from '../apply/execute-options.js';
import type { Budgets } from '../desired/model.js';
import type { LiveReaders } from '../live/readers.js';
import type { Plan } from '../plan/model.js';
import type { Clock, RateGate } from '../rate/index.js';

/** Variables the provisioning wiring (and the default AMI) are read from. */
export type WiringEnv = Readonly<Record<string, string | undefined>>;

/**
 * One AWS account's part of a session: its clients (its region, its credentials), its rate gate
 * (AWS budgets are per account and region, so its buckets are its own) and its read-only views.
 */
export interface AccountSession {
  info: AccountInfo;
  aws: AwsClients;
  gate: RateGate;
  readers: LiveReaders;
  /** Resolves the account's credentials (the canary's AssumeRole); rejects with AccountUnavailable. */
  ready(): Promise<void>;
}

/**
 * The cloud clients one run works with, and how to let go of them. `aws`, `gate` and `readers`
 * are the main account's; `canary` is the second account's part when one is configured.
 * Cloudflare is one account and zone for both.
 */
export interface CloudSession {
  aws: AwsClients;
  cloudflare: CloudflareContext;
  gate: RateGate;
  readers: LiveReaders;
  main: AccountInfo;
  canary?: AccountSession;
  close(): void;
}

export interface CloudSessionRequest {
  region: string;
  budgets: Budgets;
  cloudflare: { apiToken: string; accountId: string; zoneId: string };
  /** The canary account (CANARY_ROLE_ARN, CANARY_REGION); `sessionName` is `tenantform-<env>`. */
  canary?: { roleArn: string; region: string; sessionName: string };
  clock?: Clock;
}

/** Makes the clients for a run once the fleet says which region and budgets apply. */
export type CloudSessionFactory = (request: CloudSessionRequest) => CloudSession;

/** What a use case says while it runs; the CLI renders these. Text is not yet redacted. */
export type ProgressEvent =
  | { kind: 'note'; message: string }
  | { kind: 'warning'; message: string }
  /** Apply: the plan it is about to act on, with the guards' verdict, before confirmation. */
  | { kind: 'planned'; plan: Plan }
  /** Apply: confirmed, about to act on this many actions under these budgets (for an estimate of time left). */
  | { kind: 'executing'; actions: number; budgets: Budgets }
  /** Apply: one action settled (a rollout wave's once its health gate is done). */
  | { kind: 'result'; result: ActionResult }
  /** Apply: the rollout's waves, each wave's start and end. */
  | { kind: 'wave'; event: WaveEvent }
  /** Apply: an outside abort has been recorded and the lease released; the process may end. */
  | { kind: 'interrupted' };

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => undefined;
