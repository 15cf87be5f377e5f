/**
 * The pictures in `plan --markdown`: a rollout as its waves and a tenant delete as its cascade,
 * as ```mermaid blocks. Every block the renderer emits is parsed with the real `mermaid` parser
 * (mermaid 11, whose `parse` needs a DOM for DOMPurify: happy-dom provides `window` and
 * `document`, nothing is rendered); a diagram that does not parse fails the test.
 */
import { Window } from 'happy-dom';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../src/contract.js';
import { planChanges } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/model.js';
import { MAX_CASCADE_PICTURES, renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import { MAX_WAVE_NODES, cascadeDiagram, label } from '../../src/render/plan-mermaid.js';
import { NOW, desiredState, fleetSpec, inventoryFor, tenant, workspace } from '../plan/fixtures.js';

type Mermaid = { parse(text: string): Promise<unknown> };
let mermaid: Mermaid;
beforeAll(async () => {
  const win = new Window();
  Object.assign(globalThis, { window: win, document: win.document });
  mermaid = (await import('mermaid')).default as unknown as Mermaid;
});

/** The body of every ```mermaid block in a Markdown text. */
function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

async function expectAllParse(markdown: string): Promise<string[]> {
  const blocks = mermaidBlocks(markdown);
  for (const b of blocks) await expect(mermaid.parse(b), b).resolves.toBeTruthy();
  // Every fence the comment opens is closed: nothing outside a block is swallowed by one.
  expect(markdown.match(/^```/gm)?.length ?? 0).toBe(blocks.length * 2);
  return blocks;
}

/** `n` tenants, the first `canaries` of them canaries, all live on an older image: a redeploy each. */
function rolloutPlan(n: number, canaries: number, batches = fleetSpec().rollout.batches): Plan {
  const fleet = fleetSpec({ rollout: { batches, maxFailureRatio: 0.25 } });
  const tenants = Array.from({ length: n }, (_, i) =>
    tenant(`t${String(i).padStart(3, '0')}`, { canary: i < canaries, ...(i === 0 ? { workspaces: [workspace('lab')] } : {}) }),
  );
  const d = desiredState(tenants, fleet);
  const inv = inventoryFor(d);
  for (const t of Object.values(inv.tenants)) for (const i of t.instances) i.tags[Tag.image] = 'old';
  return planChanges(d, inv, { now: NOW });
}

/** Tenants live but no longer declared: a cascade delete each. */
function deletePlan(gone: string[]): Plan {
  const keep = tenant('keep');
  const live = desiredState([keep, ...gone.map((s) => tenant(s, { workspaces: [workspace('w1'), workspace('w2')] }))]);
  return planChanges(desiredState([keep], fleetSpec({ guards: { maxDeletes: 100, maxTerminations: 5 } })), inventoryFor(live), { now: NOW });
}

describe('the parser is a real check', () => {
  it('rejects a broken flowchart', async () => {
    await expect(mermaid.parse('flowchart LR\n  a["open --> b\n')).rejects.toThrow();
  });
});

describe('rollout waves', () => {
  it('canaries, then each batch, with tenant counts, as a chain that parses', async () => {
    const plan = rolloutPlan(12, 2);
    const text = renderPlanMarkdown(plan);
    const blocks = await expectAllParse(text);
    expect(blocks).toHaveLength(1);
    const [diagram] = blocks;
    expect(diagram).toMatch(/^flowchart LR\n/);
    // batches [1, 50%]: 2 canaries, 1, then half of the 9 left (5), then the last 4.
    expect(diagram).toContain('w0["Canaries<br/>2 tenants, 2 redeploys"]');
    expect(diagram).toContain('w1["Batch 1<br/>1 tenant, 1 redeploy"]');
    expect(diagram).toContain('w2["Batch 2<br/>5 tenants, 5 redeploys"]');
    expect(diagram).toContain('w3["Batch 3<br/>4 tenants, 4 redeploys"]');
    expect(diagram).toContain('w2 -->|"then"| w3');
    expect(text).toContain('**Rollout**: 12 tenants in 4 waves');
  });

  it('past the drawable number of waves, a list instead of a picture', async () => {
    const plan = rolloutPlan(
      MAX_WAVE_NODES + 6,
      0,
      Array.from({ length: MAX_WAVE_NODES + 6 }, () => ({ count: 1 })),
    );
    const text = renderPlanMarkdown(plan);
    expect(mermaidBlocks(text)).toEqual([]);
    expect(text).toContain('- Batch 1: 1 tenant, 1 redeploy');
    expect(text).toContain(`- Batch ${MAX_WAVE_NODES + 6}: 1 tenant, 1 redeploy`);
  });
});

describe('tenant delete cascades', () => {
  it('each delete drawn as its cascade in apply order, and it parses', async () => {
    const plan = deletePlan(['gone']);
    const text = renderPlanMarkdown(plan);
    const blocks = await expectAllParse(text);
    expect(blocks).toHaveLength(1);
    const d = blocks[0]!;
    expect(d).toMatch(/^flowchart TD\n/);
    expect(d).toContain('t["delete tenant gone<br/>org org-gone"]');
    expect(d).toContain('s0["delete 3 instances<br/>2 of them in workspaces"]');
    expect(d).toContain('s1["delete 3 security groups<br/>2 of them in workspaces"]');
    expect(d).toMatch(/delete 1 secret bundle/);
    expect(d).toMatch(/delete 1 tunnel/);
    // The picture follows the cascade's step order.
    const order = [...d.matchAll(/s\d+\["([^"]+)"\]/g)].map((m) => m[1]!);
    const steps = plan.actions.find((a) => a.kind === 'delete')!.steps.map((s) => s.resource);
    const first = (r: string) => order.findIndex((l) => l.includes(r));
    expect(first('instance')).toBeLessThan(first('secret'));
    expect(steps.indexOf('instance')).toBeLessThan(steps.indexOf('secret'));
  });

  it(`more than ${MAX_CASCADE_PICTURES} tenant deletes: listed, not drawn`, async () => {
    const plan = deletePlan(['g1', 'g2', 'g3', 'g4']);
    const text = renderPlanMarkdown(plan);
    expect(mermaidBlocks(text)).toEqual([]);
    expect(text).toContain(`The cascades of 4 tenant deletes are listed above, not drawn (more than ${MAX_CASCADE_PICTURES})`);
  });

  it('hostile live names cannot break the diagram or the fence', async () => {
    const plan = deletePlan(['gone']);
    const del = plan.actions.find((a) => a.kind === 'delete')!;
    const hostile = 'x"]\n```\nclick t call alert(1) --> y[<b>#;|{}`';
    const drawn = cascadeDiagram({ ...del, target: { ...del.target, slug: hostile, orgId: 'o"r;g' } })!;
    await expect(mermaid.parse(drawn.replace(/^```mermaid\n|```$/g, ''))).resolves.toBeTruthy();
    expect(drawn.match(/```/g)).toHaveLength(2);
    expect(label(hostile)).not.toMatch(/["`<>[\]\n]/);
  });
});

describe('size bound', () => {
  it('a rollout and cascades together stay inside a small comment bound, every block parsing', async () => {
    const rollout = rolloutPlan(40, 3);
    const deletes = deletePlan(['g1', 'g2']);
    const plan: Plan = { ...rollout, actions: [...rollout.actions, ...deletes.actions], summary: { ...rollout.summary, delete: deletes.summary.delete } };
    for (const max of [3_000, 5_000, 20_000]) {
      const text = renderPlanMarkdown(plan, { maxLength: max });
      expect(text.length).toBeLessThanOrEqual(max);
      await expectAllParse(text);
    }
    expect(mermaidBlocks(renderPlanMarkdown(plan, { maxLength: 20_000 }))).toHaveLength(3);
  });
});
