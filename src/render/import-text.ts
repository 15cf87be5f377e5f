/**
 * `tenantform import` for people: what the control plane made that would be imported, what is
 * held back and why (each incomplete resource with the tags it lacks), the files written, and for
 * `--adopt` the adoption plan (every step) with the verdict of the plan that follows it.
 */
import { describeStep, type AdoptionStep } from '../import/steps.js';
import type { AdoptionPreview, ImportMode, ImportResult } from '../app/import.js';
import type { Plan } from '../plan/model.js';
import { renderPlanText } from './plan-text.js';

export function renderImportText(r: ImportResult, mode: ImportMode): string {
  const lines: string[] = [];
  const env = r.environment ?? '?';
  const ready = r.tenants.filter((t) => !t.heldBack);
  const held = r.tenants.filter((t) => t.heldBack);
  if (r.tenants.length === 0 && r.incomplete.length === 0) {
    const managed = r.alreadyManaged > 0 ? ` (${r.alreadyManaged} tenant${r.alreadyManaged === 1 ? '' : 's'} found already carry tenantform's tags)` : '';
    return `Nothing to import in environment ${env}: no control-plane tenant instance was found${managed}.\n`;
  }
  lines.push(`tenantform import · environment ${env}`, '');
  if (r.alreadyManaged > 0)
    lines.push(`${r.alreadyManaged} tenant${r.alreadyManaged === 1 ? '' : 's'} already carry tenantform's tags (adopted, or tenantform's own).`, '');
  if (ready.length > 0) {
    lines.push(`Control-plane tenants${mode === 'list' ? ' to import' : ''}:`);
    for (const t of ready)
      lines.push(
        `  ${t.slug} (org ${t.orgId}, instance ${t.instanceId}, ${t.workspaces} workspace${t.workspaces === 1 ? '' : 's'}${t.account ? `, ${t.account} account` : ''})`,
      );
    lines.push('');
  }
  if (held.length > 0) {
    lines.push('Held back:');
    for (const t of held) lines.push(`  ${t.slug} (org ${t.orgId}): ${t.heldBack}`);
    lines.push('');
  }
  if (r.incomplete.length > 0) {
    lines.push('Left by the control plane without what the contract needs (not imported, nothing guessed):');
    for (const i of r.incomplete) {
      const org = i.orgId ? ` (org ${i.orgId})` : '';
      lines.push(`  ${i.role} ${i.kind} ${i.id}${org}: ${i.reason}`);
    }
    lines.push('');
  }
  if (r.written.length > 0) {
    lines.push('Written:');
    for (const f of r.written) lines.push(`  ${f}`);
    lines.push('', 'Next: tenantform validate, commit the files, then tenantform import --adopt.', '');
  }
  if (r.existing.length > 0) {
    lines.push('Not overwritten (already exist; their tenant was skipped):');
    for (const f of r.existing) lines.push(`  ${f}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** The adoption plan, shown before anything is stamped. */
export function renderAdoptionPreview(p: AdoptionPreview, opts: { color: boolean }): string {
  const lines = [`Adoption plan: ${p.steps.length} step${p.steps.length === 1 ? '' : 's'} (tags, names, the bundle's copy; nothing is created, replaced or deleted)`];
  for (const s of p.steps) lines.push(`  ${describeStep(s)}`);
  if (p.steps.length === 0) lines.push('  (nothing left to stamp)');
  lines.push('');
  if (adoptionOnly(p.plan)) lines.push('Plan of these tenants after adoption: no changes.', '');
  else {
    lines.push('Plan of these tenants after adoption is not empty, so nothing is adopted:', '');
    lines.push(renderPlanText(p.plan, opts));
  }
  return `${lines.join('\n')}\n`;
}

export function adoptionOnly(plan: Plan): boolean {
  return plan.actions.length === 0 && !plan.guards.some((g) => g.blocking);
}

export function renderAdoptionStep(step: AdoptionStep, error?: string): string {
  return error ? `failed: ${describeStep(step)}: ${error}\n` : `done: ${describeStep(step)}\n`;
}
