/**
 * Each schema in schemas/ stands alone (editors load one file by its yaml-language-server
 * comment), so definitions shared between kinds are written in each file. They must not drift:
 * a uuid or image reference accepted in one file and refused in another would be a trap.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const defsOf = (kind: string) =>
  (JSON.parse(readFileSync(new URL(`../../schemas/${kind}.schema.json`, import.meta.url), 'utf8')) as { $defs: Record<string, unknown> }).$defs;

describe('definitions shared between schema files', () => {
  it('are identical wherever they appear', () => {
    const byKind = { fleet: defsOf('fleet'), tenant: defsOf('tenant'), workspace: defsOf('workspace') };
    const shared = new Map<string, string[]>();
    for (const [kind, defs] of Object.entries(byKind)) for (const name of Object.keys(defs)) shared.set(name, [...(shared.get(name) ?? []), kind]);
    const copies = [...shared].filter(([, kinds]) => kinds.length > 1);
    expect(copies.map(([name]) => name).sort()).toEqual(['apiVersion', 'imageReference', 'instanceType', 'power', 'runtime', 'tierName', 'uuid']);
    for (const [name, kinds] of copies) {
      const [first, ...rest] = kinds.map((k) => byKind[k as keyof typeof byKind][name]);
      for (const other of rest) expect(other, `$defs.${name} differs between ${kinds.join(', ')}`).toEqual(first);
    }
  });
});
