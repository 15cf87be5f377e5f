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
const plan = planChanges(d, live, { now: NOW, changedSince: 'origin/main' });

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
    expect((await readFile(path, 'utf8')).startsWith('{\n  "formatVersion": 1,')).toBe(true);
  });

  async function rejects(mutate: (p: Record<string, unknown>) => void, message: RegExp): Promise<void> {
    const path = join(await dir(), 'bad.json');
    const data = JSON.parse(JSON.stringify(plan)) as Record<string, unknown>;
    mutate(data);
    await writeFile(path, JSON.stringify(data));
    const err = await readPlanFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(message);
  }

  it('refuses another format version', () => rejects((p) => (p.formatVersion = 2), /formatVersion 2 is not 1/));
  it('refuses an unknown action kind', () => rejects((p) => ((p.actions as { kind: string }[])[0]!.kind = 'destroy'), /\$\.actions\[0\]\.kind must be one of/));
  it('refuses an id that does not match its kind and target', () => rejects((p) => ((p.actions as { id: string }[])[0]!.id = 'create:tenant:org-other'), /does not match its kind and target/));
  it('refuses an unknown step op', () => rejects((p) => ((p.actions as { steps: { op: string }[] }[])[0]!.steps[0]!.op = 'rm -rf'), /steps\[0\]\.op must be one of/));
  it('refuses nested attribute values', () => rejects((p) => ((p.actions as { after: unknown }[])[1]!.after = { x: { y: 1 } }), /after\.x must be a string/));
  it('refuses a guard naming a missing action', () => rejects((p) => (p.guards = [{ guard: 'maxDeletes', blocking: true, message: 'm', actionIds: ['delete:tenant:nope'] }]), /not an action of this plan/));
  it('refuses a missing basis', () => rejects((p) => delete p.basis, /\$\.basis must be an object/));

  it('recomputes the summary instead of trusting it', async () => {
    const path = join(await dir(), 'lying.json');
    await writeFile(path, JSON.stringify({ ...plan, summary: { create: 0, repair: 0, update: 0, redeploy: 0, resize: 0, stop: 0, start: 0, delete: 0 } }));
    expect((await readPlanFile(path)).summary).toEqual(plan.summary);
  });

  it('names the file when it is not JSON or not there', async () => {
    const path = join(await dir(), 'nope.json');
    await expect(readPlanFile(path)).rejects.toThrow(new RegExp(`read plan file ${path.replace(/[.]/g, '\\.')}: .*ENOENT`));
    await writeFile(path, '{ not json');
    await expect(readPlanFile(path)).rejects.toThrow(/not JSON/);
  });
});
