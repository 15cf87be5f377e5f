/** The apply use case's inputs (src/app/apply.ts), shared with the part that runs under the lease. */
import type { Clock, Deadlines } from '../apply/context.js';
import type { GuardAllowances } from '../plan/guards.js';
import type { Plan } from '../plan/model.js';
import type { Redactor } from '../redact.js';
import type { AuditStore } from '../store/index.js';
import type { CloudSessionFactory, ProgressSink, WiringEnv } from './ports.js';

export interface ApplyInput {
  repoDir: string;
  wiringEnv: WiringEnv;
  clients: CloudSessionFactory;
  /** Opened once the fleet and the wiring are known good (an invalid fleet makes no database). */
  openStore: () => AuditStore | Promise<AuditStore>;
  /** Running on a CI runner: a store inside the checkout is then warned about (see ci-warning.ts). */
  ci?: boolean;
  /** Learns the wiring's secrets and every generated one; the store and errors scrub with it. */
  redactor: Redactor;
  /** `confirm` gets the plan that passed the guards and the wiring check; false changes nothing (exit 1). */
  confirm: (plan: Plan) => Promise<boolean>;
  /** A plan saved by `plan --out`: where it is, and how to name it in messages. */
  planFile?: { path: string; name: string };
  allow: GuardAllowances;
  replace?: readonly string[];
  allowEmpty?: boolean;
  allowDirty?: boolean;
  lockTtlMs: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
  /** Time for polls, deadlines, rate budgets and throttle backoff (tests pass a virtual clock). */
  clock?: Clock;
  deadlines?: Partial<Deadlines>;
  now?: () => Date;
  /** Runs once the lease is held, before anything is observed. */
  onLocked?: () => void | Promise<void>;
}
