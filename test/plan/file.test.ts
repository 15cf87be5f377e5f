import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { planChanges } from '../../src/plan/diff.js';
import { readPlanFile, writePlanFile } from '../../src/plan/file.js';
import { NOW, desiredState, inventoryFor, tenant, workspace } from './fixtures.js';

const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] })]);
const live = inventoryFor(desiredState([tenant('acme'), tenant('gone')]));
live.tenants['org-acme']!.instances[0]!.imageId = 'ami-0old';
const plan = planChanges(d, live, { now: NOW, changedSince: 'origin/main', replace: ['acme'] });

/**
 * What a forger does after editing a plan: recompute the digest (sha256 of the JSON without it,
 * computed here independently of src). The shape checks below must still refuse what is wrong.
 */
function withDigest(data: Record<string, unknown>): Record<string, unknown> {
  const { formatVersion, digest: _old, ...rest } = data;
  const body = { formatVersion, ...rest };
  return { formatVersion, digest: createHash('sha256').update(JSON.stringify(body)).digest('hex'), ...rest };
}

async function savedDocument(): Promise<Record<string, unknown>> {
  const path = join(await dir(), 'plan.json');
  await writePlanFile(path, plan);
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

async function savedPath(): Promise<string> {
  const path = join(await dir(), 'plan.json');
  await writePlanFile(path, plan);
  return path;
}

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tenantform-plan-'));
}

describe('plan file', () => {
  it('round-trips a plan with its basis', async () => {
    const path = join(await dir(), 'plan.json');
    await writePlanFile(path, plan);
    const back = await readPlanFile(path);
    expect(back).toEqual(JSON.parse(JSON.stringify(plan)));
    expect(back.basis.commit).toBe(d.commit);
    expect(back.actions.some((a) => a.replacement)).toBe(true);
    expect((await readFile(path, 'utf8')).startsWith('{\n  "formatVersion": 3,\n  "digest": "')).toBe(true);
  });

  async function rejects(mutate: (p: Record<string, unknown>) => void, message: RegExp): Promise<void> {
    const path = join(await dir(), 'bad.json');
    const data = await savedDocument();
    mutate(data);
    await writeFile(path, JSON.stringify(withDigest(data)));
    const err = await readPlanFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(message);
  }

  it('refuses another format version', () => rejects((p) => (p.formatVersion = 4), /formatVersion 4 is not 3/));

  it('refuses a plan of an older format (1, or 2: no intents) with one line saying to re-plan', async () => {
    for (const version of [1, 2]) {
      const path = join(await dir(), `old-${version}.json`);
      const { digest: _d, ...old }: Record<string, unknown> = { ...(await savedDocument()), formatVersion: version };
      // A format 2 file had a digest and no intents: with or without them, it is refused by its version alone.
      if (version === 2) for (const a of old.actions as Record<string, unknown>[]) delete a.intent;
      await writeFile(path, JSON.stringify(version === 2 ? withDigest(old) : old));
      const err = (await readPlanFile(path).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(InputError);
      expect(err.message).toBe(`read plan file ${path}: made by an older tenantform (plan format ${version}, this one reads 3); re-plan with this version`);
      expect(err.message).not.toContain('\n');
    }
  });

  it("carries every action's intent and the fleet settings, and no secret", async () => {
    const back = await readPlanFile(await savedPath());
    expect(back.settings).toEqual(JSON.parse(JSON.stringify(plan.settings)));
    expect(back.settings?.platformPort).toBe(d.fleet.tenant.platformPort);
    expect(back.actions.map((a) => `${a.kind} ${a.target.slug}${a.replacement ? ' (replacement)' : ''} ${a.intent.kind}`)).toEqual(
      plan.actions.map((a) => `${a.kind} ${a.target.slug}${a.replacement ? ' (replacement)' : ''} ${a.intent.kind}`),
    );
    const del = back.actions.find((a) => a.kind === 'delete' && !a.replacement)!;
    expect(del.intent.kind).toBe('tenantDelete');
    if (del.intent.kind === 'tenantDelete') {
      expect(del.intent.cascade.instances.map((i) => i.id)).toEqual(del.steps.filter((s) => s.resource === 'instance').map((s) => s.id));
    }
    const replacement = back.actions.find((a) => a.kind === 'delete' && a.replacement)!;
    expect(replacement.intent).toEqual({ kind: 'instanceReplace', orgId: 'org-acme', slug: 'acme', instanceIds: [replacement.steps[0]!.id] });
    const create = back.actions.find((a) => a.kind === 'create' && a.target.kind === 'tenant')!;
    expect(create.intent).toMatchObject({
      kind: 'tenant',
      tenant: { orgId: 'org-acme', instanceType: d.tenants[0]!.effective.instanceType, ami: d.tenants[0]!.effective.ami },
    });
    expect(await readFile(await savedPath(), 'utf8')).not.toMatch(/password|token|secretValue/i);
  });

  it('refuses an intent that deletes other ids than its steps, or of another kind or target', async () => {
    const deleteIndex = plan.actions.findIndex((a) => a.kind === 'delete' && !a.replacement);
    const replaceIndex = plan.actions.findIndex((a) => a.kind === 'delete' && a.replacement);
    type Doc = { actions: Array<{ intent?: Record<string, unknown> & { cascade?: { instances: unknown[] } } }> };
    await rejects(
      (p) => (p as unknown as Doc).actions[deleteIndex]!.intent!.cascade!.instances.push({ id: 'i-0someoneelse' }),
      /deletes other ids than the action's steps/,
    );
    await rejects((p) => ((p as unknown as Doc).actions[replaceIndex]!.intent!.instanceIds = ['i-0someoneelse']), /deletes other ids than the action's steps/);
    await rejects((p) => ((p as unknown as Doc).actions[replaceIndex]!.intent!.kind = 'workspace'), /carries instanceReplace/);
    await rejects((p) => ((p as unknown as Doc).actions[replaceIndex]!.intent!.orgId = 'org-other'), /names another target/);
    await rejects((p) => delete (p as unknown as Doc).actions[0]!.intent, /\$\.actions\[0\]\.intent must be an object/);
  });

  it('refuses a hand-edited file by its digest, naming it, in one line', async () => {
    const path = join(await dir(), 'edited.json');
    const doc = await savedDocument();
    (doc.actions as unknown[]).push({
      id: 'delete:tenant:org-acme',
      kind: 'delete',
      target: { kind: 'tenant', orgId: 'org-acme', slug: 'acme' },
      steps: [],
      before: null,
      after: null,
      reason: 'x',
    });
    await writeFile(path, JSON.stringify(doc, null, 2));
    const err = (await readPlanFile(path).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`read plan file ${path}: its digest does not match its content: the file was truncated or edited; re-run plan`);
  });

  it('refuses a truncated file and one without a digest', async () => {
    const path = join(await dir(), 'cut.json');
    const text = JSON.stringify(await savedDocument(), null, 2);
    await writeFile(path, text.slice(0, Math.floor(text.length / 2)));
    await expect(readPlanFile(path)).rejects.toThrow(/not JSON .*re-run plan/);
    const { digest: _d, ...bare } = await savedDocument();
    await writeFile(path, JSON.stringify(bare));
    await expect(readPlanFile(path)).rejects.toThrow(/has no digest/);
  });

  it('accepts a reformatted file: the digest covers the content, not the whitespace', async () => {
    const path = join(await dir(), 'compact.json');
    await writeFile(path, JSON.stringify(await savedDocument()));
    expect((await readPlanFile(path)).actions).toEqual(JSON.parse(JSON.stringify(plan.actions)));
  });
  it('refuses an unknown action kind', () => rejects((p) => ((p.actions as { kind: string }[])[0]!.kind = 'destroy'), /\$\.actions\[0\]\.kind must be one of/));
  it('refuses an id that does not match its kind and target', () =>
    rejects((p) => ((p.actions as { id: string }[])[0]!.id = 'create:tenant:org-other'), /does not match its kind and target/));
  it('refuses an unknown step op', () => rejects((p) => ((p.actions as { steps: { op: string }[] }[])[0]!.steps[0]!.op = 'rm -rf'), /steps\[0\]\.op must be one of/));
  it('refuses nested attribute values', () => rejects((p) => ((p.actions as { after: unknown }[])[1]!.after = { x: { y: 1 } }), /after\.x must be a string/));
  it('refuses a guard naming a missing action', () =>
    rejects((p) => (p.guards = [{ guard: 'maxDeletes', blocking: true, message: 'm', actionIds: ['delete:tenant:nope'] }]), /not an action of this plan/));
  it('refuses a missing basis', () => rejects((p) => delete p.basis, /\$\.basis must be an object/));

  it('recomputes the summary instead of trusting it', async () => {
    const path = join(await dir(), 'lying.json');
    await writeFile(
      path,
      JSON.stringify(withDigest({ ...(await savedDocument()), summary: { create: 0, repair: 0, update: 0, redeploy: 0, resize: 0, stop: 0, start: 0, delete: 0 } })),
    );
    expect((await readPlanFile(path)).summary).toEqual(plan.summary);
  });

  it('names the file when it is not JSON or not there', async () => {
    const path = join(await dir(), 'nope.json');
    await expect(readPlanFile(path)).rejects.toThrow(new RegExp(`read plan file ${path.replace(/[.]/g, '\\.')}: .*ENOENT`));
    await writeFile(path, '{ not json');
    await expect(readPlanFile(path)).rejects.toThrow(/not JSON/);
  });
});
