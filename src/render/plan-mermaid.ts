/**
 * Mermaid pictures for the pull request comment (GitHub and Gitea render ```mermaid blocks):
 * a rollout as its waves (canaries, then each batch, with tenant counts) and a tenant delete as
 * its cascade, in the order apply removes things. Each picture is small and bounded: past
 * MAX_WAVE_NODES waves or MAX_CASCADE_NODES cascade stages the renderer says so and the caller
 * falls back to the plain list, which is always there.
 *
 * Labels carry fleet- and cloud-sourced text (slugs, org ids), so every label is quoted and the
 * characters Mermaid or the Markdown fence could read are written as Mermaid entity codes.
 */
import { kindLabel } from '../kinds.js';
import type { Action, Plan, Step } from '../plan/model.js';

/** More waves than this are listed, not drawn (a picture that wide helps nobody). */
export const MAX_WAVE_NODES = 24;
/** Cascade stages drawn at most; a longer cascade is listed. */
export const MAX_CASCADE_NODES = 16;

export interface WaveSummary {
  wave: number;
  tenants: number;
  actions: number;
  blocked: number;
}

/** Redeploy waves in order, with distinct tenants (a tenant's workspaces ride in its wave). */
export function rolloutWaves(plan: Plan): WaveSummary[] {
  const byWave = new Map<number, { orgs: Set<string>; actions: number; blocked: number }>();
  for (const a of plan.actions) {
    if (a.kind !== 'redeploy' || a.wave === undefined) continue;
    const w = byWave.get(a.wave) ?? { orgs: new Set<string>(), actions: 0, blocked: 0 };
    w.orgs.add(a.target.orgId);
    w.actions += 1;
    if (a.blockedBy && a.blockedBy.length > 0) w.blocked += 1;
    byWave.set(a.wave, w);
  }
  return [...byWave.entries()].sort(([x], [y]) => x - y).map(([wave, w]) => ({ wave, tenants: w.orgs.size, actions: w.actions, blocked: w.blocked }));
}

export function waveName(wave: number): string {
  return wave === 0 ? 'Canaries' : `Batch ${wave}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The rollout as a left-to-right chain of waves; undefined when there is no rollout or it is too long to draw. */
export function rolloutDiagram(waves: readonly WaveSummary[]): string | undefined {
  if (waves.length === 0 || waves.length > MAX_WAVE_NODES) return undefined;
  const lines = ['flowchart LR'];
  waves.forEach((w, i) => {
    const blocked = w.blocked > 0 ? `<br/>${plural(w.blocked, 'redeploy', 'redeploys')} blocked` : '';
    lines.push(`  w${i}["${label(waveName(w.wave))}<br/>${plural(w.tenants, 'tenant', 'tenants')}, ${plural(w.actions, 'redeploy', 'redeploys')}${blocked}"]`);
  });
  for (let i = 1; i < waves.length; i++) lines.push(`  w${i - 1} -->|"then"| w${i}`);
  return fence(lines);
}

interface Stage {
  resource: Step['resource'];
  op: Step['op'];
  count: number;
  /** How many of them belong to the tenant's workspaces. */
  inWorkspaces: number;
}

/** Consecutive steps on the same resource form one stage (a tenant's workspaces' instances, then its own). */
function stages(a: Action): Stage[] {
  const out: Stage[] = [];
  for (const s of a.steps) {
    const last = out[out.length - 1];
    const ws = s.workspaceId === undefined ? 0 : 1;
    if (last && last.resource === s.resource && last.op === s.op) {
      last.count += 1;
      last.inWorkspaces += ws;
    } else out.push({ resource: s.resource, op: s.op, count: 1, inWorkspaces: ws });
  }
  return out;
}

function stageLabel(s: Stage): string {
  const what = label(`${s.op} ${s.count} ${kindLabel(s.resource, s.count)}`);
  return s.inWorkspaces === 0 ? what : `${what}<br/>${s.inWorkspaces} of them in workspaces`;
}

/** A tenant delete as a top-down chain: the tenant, then each stage of its cascade in apply's order. */
export function cascadeDiagram(a: Action): string | undefined {
  if (a.kind !== 'delete' || a.target.kind !== 'tenant' || a.replacement) return undefined;
  const st = stages(a);
  if (st.length === 0 || st.length > MAX_CASCADE_NODES) return undefined;
  const blocked = a.blockedBy && a.blockedBy.length > 0 ? `<br/>blocked by ${a.blockedBy.join(', ')}` : '';
  const lines = ['flowchart TD', `  t["delete tenant ${label(a.target.slug)}<br/>org ${label(a.target.orgId)}${blocked}"]`];
  st.forEach((s, i) => lines.push(`  s${i}["${stageLabel(s)}"]`));
  lines.push(`  t --> s0`);
  for (let i = 1; i < st.length; i++) lines.push(`  s${i - 1} --> s${i}`);
  return fence(lines);
}

function fence(lines: string[]): string {
  return ['```mermaid', ...lines, '```'].join('\n');
}

/**
 * Text that stays inside a quoted Mermaid label and cannot close the Markdown fence: quotes,
 * angle brackets, `#`, `;`, `@` (no mention), backticks and the bracket and pipe characters become entity codes;
 * control characters and line breaks become spaces.
 */
export function label(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      // One pass, so the `#` and `;` of an entity just written are never escaped again.
      .replace(/["<>#`[\]{}()|;@]/g, (c) => (c === '"' ? '#quot;' : `#${c.charCodeAt(0)};`))
  );
}
