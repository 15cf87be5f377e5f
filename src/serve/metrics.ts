/**
 * serve's Prometheus metrics, on a Registry of its own (never prom-client's global default), so
 * two serves in one process keep separate counts. Every name starts with `tenantform_`; no label
 * value comes from a secret (jobs, results, resource kinds and service names only).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ScheduledJob } from '../desired/model.js';
import type { JobOutcome } from './jobs.js';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({
    name: 'tenantform_runs_total',
    help: 'Scheduled jobs by job and result (skipped: the previous run was still going).',
    labelNames: ['job', 'result'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'tenantform_job_duration_seconds',
    help: 'Wall time of each scheduled job, fetch included.',
    labelNames: ['job'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800],
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'tenantform_last_success_timestamp_seconds',
    help: 'Unix time the job last ended ok or with changes planned.',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly drift = new Gauge({
    name: 'tenantform_drift_findings',
    help: 'Drift findings of the last drift job, by resource kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly orphans = new Gauge({
    name: 'tenantform_orphans',
    help: 'Orphans found by the last sweep dry run, by resource kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly apiCalls = new Counter({
    name: 'tenantform_api_calls_total',
    help: 'Cloud API call attempts made by jobs, by service.',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  readonly throttled = new Counter({
    name: 'tenantform_api_throttled_total',
    help: 'Throttling answers (429, Throttling*) received, by service.',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  readonly leaseHeld = new Gauge({
    name: 'tenantform_lease_held',
    help: '1 while this serve holds the environment lease (an apply job), else 0.',
    registers: [this.registry],
  });
  readonly tenants = new Gauge({ name: 'tenantform_fleet_tenants', help: 'Tenants declared in the fleet at the last job.', registers: [this.registry] });
  readonly workspaces = new Gauge({ name: 'tenantform_fleet_workspaces', help: 'Workspaces declared in the fleet at the last job.', registers: [this.registry] });
  readonly fetchOk = new Gauge({
    name: 'tenantform_fetch_ok',
    help: '1 when the last fetch and fast-forward of the fleet repository succeeded.',
    registers: [this.registry],
  });

  constructor() {
    this.leaseHeld.set(0);
  }

  skipped(job: ScheduledJob): void {
    this.runs.inc({ job, result: 'skipped' });
  }

  record(outcome: JobOutcome): void {
    const { job } = outcome;
    this.runs.inc({ job, result: outcome.result });
    const seconds = (Date.parse(outcome.finishedAt) - Date.parse(outcome.startedAt)) / 1000;
    this.duration.observe({ job }, Math.max(0, seconds));
    if (outcome.result === 'ok' || outcome.result === 'changes') this.lastSuccess.set({ job }, Date.parse(outcome.finishedAt) / 1000);
    if (outcome.desired) {
      this.tenants.set(outcome.desired.tenants.length);
      this.workspaces.set(outcome.desired.tenants.reduce((n, t) => n + t.workspaces.length, 0));
    }
    if (outcome.drift)
      setCounts(
        this.drift,
        outcome.drift.findings.map((f) => f.resource),
      );
    if (outcome.sweep)
      setCounts(
        this.orphans,
        outcome.sweep.orphans.map((o) => o.kind),
      );
  }

  call(service: string, throttled: boolean): void {
    this.apiCalls.inc({ service });
    if (throttled) this.throttled.inc({ service });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Replaces a gauge's series with this run's counts: a kind no longer found is no longer reported. */
function setCounts(gauge: Gauge<'kind'>, kinds: readonly string[]): void {
  gauge.reset();
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const [kind, n] of counts) gauge.set({ kind }, n);
}
