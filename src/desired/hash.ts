import { createHash, type Hash } from 'node:crypto';
import type { DesiredTenant, FleetSpec } from './model.js';

/** JSON with keys sorted and undefined dropped, so equal data always gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (value[i] === undefined ? 'null' : canonicalJson(value[i]));
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * sha256 over the canonical JSON of what the fleet declares and resolves to. Source positions
 * are left out: moving a line or adding a comment does not change what is desired.
 */
export function desiredHash(fleet: FleetSpec, tenants: readonly DesiredTenant[]): string {
  const hash: Hash = createHash('sha256');
  hash.update(`{"fleet":${canonicalJson(fleet)},"tenants":[`);
  tenants.forEach((t, i) => {
    const plain = { spec: t.spec, effective: t.effective, workspaces: t.workspaces.map((w) => ({ spec: w.spec, effective: w.effective })) };
    hash.update(`${i === 0 ? '' : ','}${canonicalJson(plain)}`);
  });
  hash.update(']}');
  return hash.digest('hex');
}
