/**
 * Each page as a pure function of its data: what it shows, and that every value is escaped
 * (the fixtures put `<script>` in a tenant slug, an image, a tag value, an error and a name).
 */
import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/web/html.js';
import { renderDrift } from '../../src/web/pages/drift.js';
import { renderFleet } from '../../src/web/pages/fleet.js';
import { renderOrphans } from '../../src/web/pages/orphans.js';
import { renderRollout } from '../../src/web/pages/rollout.js';
import { renderRun, renderRuns } from '../../src/web/pages/runs.js';
import { SnapshotHolder } from '../../src/web/snapshot.js';
import { changeSet, desired, drift, history, HOSTILE, HOSTILE_ESCAPED, inventory, ORG_A, plan, RUN_1, RUN_H, snapshot, sweep, WS_A } from './fixtures.js';

const base = { environment: 'dev', updatedAt: snapshot.updatedAt };

/** No markup from data: the only `<script` would be one a value smuggled in. */
function expectEscaped(page: string): void {
  expect(page).not.toContain('<script');
  expect(page).not.toContain(HOSTILE);
  expect(page.startsWith('<!doctype html>')).toBe(true);
}

describe('escapeHtml and the html template', () => {
  it('escapes the five special characters, and nothing else', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('plain text 123')).toBe('plain text 123');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml({ k: '<v>' })).toBe('{&quot;k&quot;:&quot;&lt;v&gt;&quot;}');
  });
  it('escapes every interpolation except markup it made itself, in arrays too', () => {
    const inner = html`<b>${HOSTILE}</b>`;
    const out = html`<p>${inner}${[HOSTILE, html`<i>ok</i>`]}</p>`.text;
    expect(out).toBe(`<p><b>${HOSTILE_ESCAPED}</b>${HOSTILE_ESCAPED}<i>ok</i></p>`);
  });
  it('a value cannot leave a quoted attribute', () => {
    const out = html`<a href="/runs/${'" onmouseover="alert(1)'}">x</a>`.text;
    expect(out).toBe('<a href="/runs/&quot; onmouseover=&quot;alert(1)">x</a>');
  });
});

describe('SnapshotHolder', () => {
  it('replaces parts, keeps the rest and the environment, and stamps updatedAt', () => {
    let t = Date.parse('2026-12-01T10:00:00Z');
    const h = new SnapshotHolder('dev', () => new Date(t));
    expect(h.get()).toEqual({ environment: 'dev', updatedAt: '2026-12-01T10:00:00.000Z' });
    const before = h.get();
    t += 5000;
    h.update({ lastDrift: drift });
    t += 5000;
    h.update({ lastSweep: sweep, environment: 'prod' });
    expect(h.get().lastDrift).toBe(drift);
    expect(h.get().lastSweep).toBe(sweep);
    expect(h.get().environment).toBe('dev');
    expect(h.get().updatedAt).toBe('2026-12-01T10:00:10.000Z');
    expect(before.lastDrift).toBeUndefined();
  });
});

describe('fleet page', () => {
  const page = renderFleet({ ...base, desired, inventory, drift, history });
  it('lists tenants and their workspaces with power, live state, image, last apply and drift', () => {
    expect(page).toContain('<strong>acme</strong>');
    expect(page).toContain('research');
    expect(page).toContain(WS_A);
    expect(page).toContain('ghcr.io/example/tenant:1.4.0');
    expect(page).toContain('ami ami-0ws');
    expect(page).toContain('i-0tenant');
    // research is declared stopped but runs: both are shown, the live state marked.
    expect(page).toMatch(/stopped <span class="b warn">running<\/span>/);
    expect(page).toContain(`<a href="/runs/${RUN_1}">`);
    expect(page).toContain('1 security');
    expect(page).toContain('1 drift'); // the workspace's tag finding, on its own row
    expect(page).not.toContain('0 drift');
    expect(page).toContain('never');
  });
  it('escapes a hostile slug and image', () => {
    expectEscaped(page);
    expect(page).toContain(`<strong>${HOSTILE_ESCAPED}</strong>`);
  });
  it('says "not observed" without a drift run, and falls back to the inventory without a desired state', () => {
    const p = renderFleet({ ...base, desired: undefined, inventory, drift: undefined, history: { runs: [], resources: [] } });
    expect(p).toContain('not observed');
    expect(p).toContain('<strong>acme</strong>');
    expect(p).toContain('acme-research');
    expect(renderFleet({ ...base, desired: undefined, inventory: undefined, drift: undefined, history: { runs: [], resources: [] } })).toContain('No tenants');
  });
});

describe('runs pages', () => {
  it('lists runs newest first, linking each by its encoded id', () => {
    const page = renderRuns({ ...base, runs: history.runs });
    expectEscaped(page);
    expect(page.indexOf(encodeURIComponent(RUN_H))).toBeLessThan(page.indexOf(RUN_1));
    expect(page).toContain(`href="/runs/${encodeURIComponent(RUN_H)}"`);
    expect(page).toContain('run-&lt;b&gt;&quot;h&quot;&lt;/b&gt;');
    expect(page).toContain('abcdef012345');
  });
  it('shows one run with its change set and resource events', () => {
    const page = renderRun({ ...base, run: history.runs[1]!, events: history.resources, changeSet });
    expectEscaped(page);
    expect(page).toContain(`Run ${RUN_1}`);
    expect(page).toContain(`redeploy:tenant:${ORG_A}`);
    expect(page).toContain(`SendCommand failed: ${HOSTILE_ESCAPED}`);
    expect(page).toContain('rollout halted');
    expect(page).toContain('i-0ws');
    expect(page).toContain('Resource events');
  });
  it('escapes a run summary', () => {
    const page = renderRun({ ...base, run: history.runs[0]!, events: [], changeSet: undefined });
    expectEscaped(page);
    expect(page).toContain('No resource events');
    expect(page).not.toContain('Change set');
  });
});

describe('drift page', () => {
  it('lists findings security first, with expected and actual escaped', () => {
    const page = renderDrift({ ...base, drift });
    expectEscaped(page);
    expect(page.indexOf('ruleOpenToWorld')).toBeGreaterThan(0);
    expect(page.indexOf('ruleOpenToWorld')).toBeLessThan(page.indexOf('<code>tag</code>'));
    expect(page).toContain('tcp/22 from cidr:0.0.0.0/0');
    expect(page).toContain(HOSTILE_ESCAPED);
    expect(page).toContain('1 security');
  });
  it('says when there is no drift run, and when there is no drift', () => {
    expect(renderDrift({ ...base, drift: undefined })).toContain('No drift run yet');
    expect(renderDrift({ ...base, drift: { ...drift, findings: [] } })).toContain('No drift:');
  });
  it('shows the informational notes apart, after the findings, escaped, and counts them in neither badge', () => {
    const page = renderDrift({ ...base, drift });
    expectEscaped(page);
    const notesAt = page.indexOf('<h2>Notes (kept by rule, nothing to fix)</h2>');
    expect(notesAt).toBeGreaterThan(page.indexOf('<code>tag</code>'));
    // The findings table holds the findings only; the notes table the notes only.
    const [findingsPart, notesPart] = [page.slice(0, notesAt), page.slice(notesAt)];
    expect(findingsPart).not.toContain('volumeLarger');
    expect(notesPart).not.toContain('ruleOpenToWorld');
    expect(notesPart.match(/<code>volumeLarger<\/code>/g)).toHaveLength(2);
    expect(notesPart).toContain('<code>i-0tenant</code>');
    expect(notesPart).toContain('<code>40 GB</code>');
    expect(notesPart).toContain('larger than the declared 30 GB; kept');
    expect(notesPart).toContain('declare 40 GB to match');
    expect(notesPart).toContain('<span class="b none">info</span>');
    expect(notesPart).toContain(HOSTILE_ESCAPED);
    // The counts are the findings' (2, one security), the notes have their own.
    expect(page).toContain('2 findings');
    expect(page).toContain('1 security');
    expect(page).toContain('2 notes');
  });
  it('with notes and no findings, still says there is no drift, and shows the notes; a result from before notes shows none', () => {
    const clean = renderDrift({ ...base, drift: { ...drift, findings: [] } });
    expect(clean).toContain('No drift:');
    expect(clean).toContain('0 findings');
    expect(clean).toContain('0 security');
    expect(clean).toContain('Notes (kept by rule, nothing to fix)');
    expect(renderDrift({ ...base, drift: { ...drift, notes: [drift.notes![0]!] } })).toContain('1 note<');
    const older = { ...drift };
    delete older.notes;
    const page = renderDrift({ ...base, drift: older });
    expect(page).not.toContain('Notes (kept by rule');
    expect(page).not.toContain(' notes');
    expect(renderDrift({ ...base, drift: { ...drift, notes: [] } })).not.toContain('Notes (kept by rule');
  });
  it('the fleet page counts findings only: notes alone leave every row without a drift badge', () => {
    const page = renderFleet({ ...base, desired, inventory, drift: { ...drift, findings: [] }, history });
    expect(page).not.toMatch(/\d+ (drift|security)/);
  });
});

describe('orphans page', () => {
  it('lists the orphans with their verdicts and the lost claims', () => {
    const page = renderOrphans({ ...base, sweep });
    expectEscaped(page);
    expect(page).toContain('i-0orphan');
    expect(page).toContain('undeclaredTenant');
    expect(page).toContain('dry run');
    expect(page).toContain('tenantform/dev/x');
    expect(page).toContain(`href="/runs/${RUN_1}"`);
    expect(renderOrphans({ ...base, sweep: undefined })).toContain('No sweep run yet');
  });
});

describe('rollout page', () => {
  it('shows progress, every wave planned or run, and the failures', () => {
    const page = renderRollout({ ...base, rollout: snapshot.rollout, plan, changeSet });
    expectEscaped(page);
    expect(page).toContain('redeploying');
    expect(page).toContain('canary (0)');
    expect(page).toMatch(/<td>1<\/td><td>1<\/td><td>1\.00<\/td><td><span class="b bad">halted<\/span>/);
    // Wave 2 was planned but not run: the rollout halted at wave 1.
    expect(page).toMatch(/<td>2<\/td><td>1<\/td><td>initech<\/td>.*not run/s);
    expect(page).toContain(`SendCommand failed: ${HOSTILE_ESCAPED}`);
  });
  it('says when nothing is in progress', () => {
    const page = renderRollout({ ...base, rollout: undefined, plan: undefined, changeSet: undefined });
    expect(page).toContain('No rollout in progress');
    expect(page).toContain('No waves');
  });
});
