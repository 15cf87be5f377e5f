/**
 * The use cases share no hidden state: two plans, then two applies, run concurrently in this one
 * process against two separate worlds (each its own AWS account in moto and its own Cloudflare
 * double, audit database and secrets), each with its own redactor. Each result is checked, and
 * nothing one run printed, returned or recorded holds a secret of the other (or its own). Then
 * the same use cases run one after another and find nothing to do.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFleet, type ApplyResult } from '../../src/app/apply.js';
import { Interruption } from '../../src/app/interrupt.js';
import { planFleet, type PlanResult } from '../../src/app/plan.js';
import type { ProgressEvent } from '../../src/app/ports.js';
import { cloudSessionFactory } from '../../src/cli/cloud-session.js';
import { secretName } from '../../src/contract.js';
import { REDACTED, Redactor } from '../../src/redact.js';
import { renderChangeSetJson } from '../../src/render/changeset-json.js';
import { resultLine } from '../../src/render/changeset-text.js';
import { renderPlanJson } from '../../src/render/plan-json.js';
import { openAuditStore } from '../../src/store/index.js';
import { virtualClock } from '../apply/harness.js';
import { ORG, startApplyWorld, type ApplyWorld } from '../cli/apply-world.js';

interface Side {
  w: ApplyWorld;
  redactor: Redactor;
  /** Everything this side's runs produced, scrubbed by its redactor as the CLI's writers do. */
  outputs: string[];
}

let a: Side;
let b: Side;
beforeAll(async () => {
  const [wa, wb] = await Promise.all([startApplyWorld(), startApplyWorld()]);
  a = { w: wa, redactor: new Redactor(), outputs: [] };
  b = { w: wb, redactor: new Redactor(), outputs: [] };
});
afterAll(async () => {
  await Promise.all([a?.w.close(), b?.w.close()]);
});

function plan(side: Side): Promise<PlanResult> {
  return planFleet({ repoDir: side.w.dir, wiringEnv: side.w.env, clients: cloudSessionFactory(side.w.env), redactor: side.redactor });
}

function progressOf(side: Side, during: () => void): (e: ProgressEvent) => void {
  return (e) => {
    during();
    const text =
      e.kind === 'result'
        ? resultLine(e.result)
        : e.kind === 'planned'
          ? renderPlanJson(e.plan)
          : e.kind === 'interrupted'
            ? 'interrupted'
            : 'message' in e
              ? e.message
              : JSON.stringify(e);
    side.outputs.push(side.redactor.redact(text));
  };
}

function apply(side: Side, during: () => void, signal?: AbortSignal): Promise<ApplyResult> {
  return applyFleet({
    ...(signal ? { signal } : {}),
    repoDir: side.w.dir,
    wiringEnv: side.w.env,
    clients: cloudSessionFactory(side.w.env),
    openStore: () => openAuditStore(side.w.db, { redactor: side.redactor }),
    redactor: side.redactor,
    confirm: async () => true,
    allow: { deletes: undefined, terminations: undefined },
    lockTtlMs: 60_000,
    progress: progressOf(side, during),
    clock: virtualClock(),
  });
}

function actionsOf(r: PlanResult): string[] {
  if (!r.ok) throw new Error(`plan failed: ${JSON.stringify(r.diagnostics)}`);
  return r.plan.actions.map((x) => `${x.kind} ${x.target.slug}${x.target.workspaceName ? `/${x.target.workspaceName}` : ''}`).sort();
}

async function bundleSecrets(w: ApplyWorld): Promise<string[]> {
  const out: string[] = [];
  for (const org of [ORG.acme, ORG.globex]) {
    const bundle = JSON.parse((await w.check.secrets.send(new GetSecretValueCommand({ SecretId: secretName('dev', org) }))).SecretString!) as Record<string, string>;
    out.push(bundle.DB_PASSWORD!, bundle.ADMIN_TOKEN!, bundle.TUNNEL_TOKEN!);
  }
  return out;
}

describe('two use cases in one process', () => {
  it('plans concurrently with separate redactors: the same plan each, and each redactor knows only its own secrets', async () => {
    const listeners = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const [pa, pb] = await Promise.all([plan(a), plan(b)]);
    expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(listeners);
    expect(actionsOf(pa)).toEqual(actionsOf(pb));
    expect(actionsOf(pa).length).toBeGreaterThan(0);
    expect(actionsOf(pa).every((x) => x.startsWith('create '))).toBe(true);
    for (const [side, result] of [
      [a, pa],
      [b, pb],
    ] as const)
      if (result.ok) side.outputs.push(side.redactor.redact(renderPlanJson(result.plan)));
    // Each redactor learnt its own run's secrets, and nothing of the other run's.
    for (const s of a.w.envSecrets) expect([a.redactor.redact(s), b.redactor.redact(s)]).toEqual([REDACTED, s]);
    for (const s of b.w.envSecrets) expect([b.redactor.redact(s), a.redactor.redact(s)]).toEqual([REDACTED, s]);
  });

  it('applies concurrently to two accounts: each converges, and no output or audit row of one holds a secret of either', async () => {
    const listeners = () => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const before = listeners();
    const seen: number[] = [];
    const during = () => void seen.push(listeners());
    const [ra, rb] = await Promise.all([apply(a, during), apply(b, during)]);
    // A use case installs no signal handler: that is the CLI's business.
    expect(new Set([...seen, listeners()])).toEqual(new Set([before]));
    for (const [side, r] of [
      [a, ra],
      [b, rb],
    ] as const) {
      expect(r.code).toBe(0);
      expect(r.changeSet?.summary).toMatchObject({ failed: 0, skipped: 0 });
      expect(r.changeSet?.results.length).toBe(8);
      side.outputs.push(side.redactor.redact(renderChangeSetJson(r.changeSet!)));
      expect(await side.w.instances(ORG.acme)).toHaveLength(3);
      expect(side.w.runs().map((x) => `${x.command} ${x.status} ${x.exit_code}`)).toEqual(['apply succeeded 0']);
    }
    expect(ra.runId).not.toBe(rb.runId);

    const secretsA = [...a.w.envSecrets, ...(await bundleSecrets(a.w))];
    const secretsB = [...b.w.envSecrets, ...(await bundleSecrets(b.w))];
    expect([...secretsA, ...secretsB].every((s) => s.length >= 16)).toBe(true);
    // Generated secrets differ per world, so a leak of one into the other's text would be seen.
    expect(secretsA.filter((s) => secretsB.includes(s))).toEqual([]);
    for (const side of [a, b]) {
      const text = side.outputs.join('\n') + side.w.auditText();
      expect(side.outputs.length).toBeGreaterThan(8);
      for (const s of [...secretsA, ...secretsB]) expect(text.includes(s), `a secret leaked (${s.slice(0, 4)}…)`).toBe(false);
    }
    // Each redactor learnt its own run's generated secrets and none of the other's.
    for (const s of secretsA) expect([a.redactor.redact(s), b.redactor.redact(s)]).toEqual([REDACTED, s]);
    for (const s of secretsB) expect([b.redactor.redact(s), a.redactor.redact(s)]).toEqual([REDACTED, s]);
  });

  it('runs one after another in the same process: each world then has nothing to do', async () => {
    expect(actionsOf(await plan(a))).toEqual([]);
    expect(actionsOf(await plan(b))).toEqual([]);
  });

  it('an apply aborted before it starts records no run, takes no lease and changes nothing', async () => {
    const stop = new AbortController();
    const why = new Interruption('interrupted by SIGTERM', 143);
    stop.abort(why);
    const traffic = a.w.mark();
    const runsBefore = a.w.runs();
    await expect(apply(a, () => undefined, stop.signal)).rejects.toBe(why);
    expect(a.w.runs()).toEqual(runsBefore);
    const store = await openAuditStore(a.w.db);
    try {
      expect(await store.currentLease('dev')).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(traffic()).toEqual({ aws: [], cf: [] });
  });
});
