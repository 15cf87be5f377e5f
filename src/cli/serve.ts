/**
 * `tenantform serve`: the daemon. Reads fleet.yaml's `schedules` at start and again after each
 * fetch (a change reschedules and logs one line; invalid ones keep the old schedules and make
 * /healthz unhealthy), runs each job on its cron schedule (UTC) after fetching and
 * fast-forwarding the checkout, and serves /healthz, /metrics and (when wired) the web view on
 * --listen. SIGTERM/SIGINT stop the schedules, give a
 * running job --stop-deadline seconds, then abort it (apply records the run as interrupted and
 * releases the lease), close the listener and exit 0.
 */
import { simpleGit } from 'simple-git';
import { Interruption } from '../app/interrupt.js';
import type { ProgressSink } from '../app/ports.js';
import { loadFleet } from '../desired/load.js';
import type { ScheduledJob } from '../desired/model.js';
import { ExitCode } from '../errors.js';
import { redactor as defaultRedactor, redactWriters, type Redactor } from '../redact.js';
import { Serve, type SnapshotPart } from '../serve/daemon.js';
import { closeServer, createServeServer, listen, parseListen, type WebHandler } from '../serve/http.js';
import type { ScheduleFn } from '../serve/scheduler.js';
import { openAuditStore } from '../store/index.js';
import { createWebView, LiveRollout, SnapshotHolder } from '../web/index.js';
import { cloudSessionFactory } from './cloud-session.js';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { addDbOption, addRepoOption, dbFile, parsePositiveInt, repoDir } from './options.js';
import { DEFAULT_MIN_AGE, parseMinAge } from './sweep.js';
import { printInvalidInput } from './invalid-input.js';

export const DEFAULT_LISTEN = '127.0.0.1:9480';
export const TOKEN_VAR = 'TENANTFORM_SERVE_TOKEN';

export interface ServeCommandOptions {
  repo?: string;
  db?: string;
  listen?: string;
  remote?: string;
  branch?: string;
  fetch?: boolean;
  lockTtl?: string;
  stopDeadline?: string;
  minAge?: string;
}

export interface ServeDependencies {
  web?: WebHandler;
  onSnapshot?: (part: SnapshotPart) => void;
  schedule?: ScheduleFn;
  /** Called once listening, with the running daemon (tests fire jobs through it). */
  onReady?: (serve: Serve, url: string) => void;
  /** Resolves when serve should stop; default: the first SIGTERM or SIGINT. */
  stopWhen?: Promise<unknown>;
}

export async function runServe(io: Io, opts: ServeCommandOptions, deps: ServeDependencies = {}, redactor: Redactor = defaultRedactor): Promise<number> {
  redactor.registerEnv(io.env);
  const token = io.env[TOKEN_VAR]?.trim() || undefined;
  if (token) redactor.register(token);
  const out = redactWriters(io, redactor);
  const dir = repoDir(io, opts.repo);
  const at = parseListen(opts.listen ?? DEFAULT_LISTEN);
  const lockTtlMs = parsePositiveInt('--lock-ttl', opts.lockTtl ?? '60') * 1000;
  const deadlineMs = parsePositiveInt('--stop-deadline', opts.stopDeadline ?? '30') * 1000;
  const sweepMinAgeMs = parseMinAge(opts.minAge ?? DEFAULT_MIN_AGE);
  const dbPath = dbFile(io, opts, redactor);

  const loaded = await loadFleet(dir, { allowEmpty: true, env: io.env });
  if (!loaded.fleet || loaded.diagnostics.some((d) => d.severity === 'error')) {
    printInvalidInput(out, loaded.diagnostics, { dir });
    return ExitCode.error;
  }
  const schedules = loaded.fleet.schedules ?? {};
  const fetch = opts.fetch === false ? undefined : { repoDir: dir, remote: opts.remote ?? 'origin', branch: opts.branch ?? (await currentBranch(dir)) };

  // The read-only web view: its own store handle for the runs pages, and a snapshot each job's
  // outcome updates (tests may pass their own handler instead).
  const webStore = deps.web ? undefined : await openAuditStore(dbPath, { redactor });
  const snapshot = new SnapshotHolder(loaded.fleet.environment);
  const web = deps.web ?? createWebView({ store: webStore!, snapshot: () => snapshot.get(), redactor });
  const onSnapshot = (part: SnapshotPart): void => {
    snapshot.update(part);
    deps.onSnapshot?.(part);
  };
  // The running apply's waves, live: its progress events folded into the snapshot as they come.
  const live = new LiveRollout();
  const progress: ProgressSink = (e) => {
    if (live.observe(e, new Date())) snapshot.update({ rollout: live.current() });
  };

  const serve = new Serve({
    schedules,
    fetch,
    jobs: { repoDir: dir, wiringEnv: io.env, openStore: () => openAuditStore(dbPath, { redactor }), redactor, lockTtlMs, sweepMinAgeMs, progress },
    clients: (observe) => cloudSessionFactory(io.env, observe),
    checkStore: async () => {
      const store = await openAuditStore(dbPath, { redactor });
      try {
        await store.history({ limit: 1 });
      } finally {
        await store.close();
      }
    },
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
    onSnapshot,
    onSchedules: (e) =>
      out.stderr(
        e.kind === 'changed'
          ? `${new Date().toISOString()} schedules changed: ${e.message}\n`
          : `${new Date().toISOString()} warning: new schedules refused, the previous ones still run: ${e.message}\n`,
      ),
    onOutcome: (o) => {
      if (o.job === 'apply' && live.finish(o, new Date())) snapshot.update({ rollout: live.current() });
      out.stderr(`${o.finishedAt} ${o.job} ${o.result}${o.commit ? ` at ${o.commit.slice(0, 12)}` : ''}${o.message ? `: ${o.message}` : ''}\n`);
    },
  });
  const server = createServeServer({
    health: () => serve.health(),
    metrics: async () => ({ contentType: serve.metrics.registry.contentType, body: await serve.metrics.text() }),
    token,
    web,
    onError: (e) => out.stderr(`warning: request failed: ${e instanceof Error ? e.message : String(e)}\n`),
  });
  const address = await listen(server, at);
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const jobs = (Object.keys(schedules) as ScheduledJob[]).map((j) => `${j} "${schedules[j]}"`).join(', ');
  out.stdout(`serving on ${url} (${jobs ? `schedules, UTC: ${jobs}` : 'no schedules in fleet.yaml: endpoints only'})\n`);
  serve.start();
  deps.onReady?.(serve, url);

  const reason = await (deps.stopWhen ?? firstSignal());
  const why = reason instanceof Interruption ? reason : new Interruption('serve stopped', 0);
  out.stderr(`${why.why}: stopping${serve.runningJob ? `; waiting up to ${deadlineMs / 1000} s for the ${serve.runningJob} job` : ''}\n`);
  await serve.stop({ deadlineMs, reason: why });
  await closeServer(server);
  await webStore?.close();
  out.stderr('stopped\n');
  return ExitCode.ok;
}

/** The first SIGTERM/SIGINT, as an Interruption; later ones are swallowed while serve winds down. */
function firstSignal(): Promise<Interruption> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => resolve(new Interruption(`received ${signal}`, 0));
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    // Keep a second signal from killing the process mid-cleanup; the deadline bounds the wait.
    const swallow = () => undefined;
    process.on('SIGTERM', swallow);
    process.on('SIGINT', swallow);
  });
}

async function currentBranch(dir: string): Promise<string> {
  return (await simpleGit({ baseDir: dir }).revparse(['--abbrev-ref', 'HEAD'])).trim();
}

export const serveCommand: CommandModule = {
  register(program, io, done) {
    addDbOption(addRepoOption(program.command('serve').description("run plan, drift, sweep (dry run) and apply on fleet.yaml's schedules; serve /healthz and /metrics")))
      .option('--listen <host:port>', `address for /healthz, /metrics and the web view (default ${DEFAULT_LISTEN})`)
      .option('--remote <name>', 'git remote fetched before each job (default origin)')
      .option('--branch <name>', 'branch fast-forwarded before each job (default: the checked-out branch)')
      .option('--no-fetch', 'run jobs on the checkout as it is, without fetching')
      .option('--lock-ttl <seconds>', 'environment lease time-to-live for apply jobs (default 60)')
      .option('--stop-deadline <seconds>', 'on SIGTERM/SIGINT, how long a running job may finish before it is aborted (default 30)')
      .option('--min-age <duration>', `sweep dry run: orphans younger than this are not counted deletable (default ${DEFAULT_MIN_AGE})`)
      .action(async (opts: ServeCommandOptions) => done(await runServe(io, opts)));
  },
};
