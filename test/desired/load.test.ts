import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/desired/diagnostics.js';
import { loadFleet } from '../../src/desired/load.js';
import { BASE_FILES, makeFleet, removeFleets, tenantYaml, workspaceYaml } from './fleet-fixture.js';

afterAll(removeFleets);

const repoRoot = new URL('../../', import.meta.url).pathname;
const W = 'tenants/acme/workspaces/main.yaml';
const fleetWith = (extra: string) => BASE_FILES['fleet.yaml'] + extra;
const bySeverity = (ds: Diagnostic[], s: Diagnostic['severity']) => ds.filter((d) => d.severity === s);

describe('the example fleet in this repository', () => {
  it('validates with no errors and no warnings', async () => {
    const { state, diagnostics } = await loadFleet(repoRoot);
    expect(bySeverity(diagnostics, 'error')).toEqual([]);
    expect(bySeverity(diagnostics, 'warning')).toEqual([]);
    expect(state?.fleet.environment).toBe('dev');
    expect(state?.tenants.map((t) => t.spec.slug)).toEqual(['acme', 'globex', 'initech', 'umbrella']);
  });

  it('has one canary, a hermes workspace and a stopped workspace, resolved to their effective values', async () => {
    const { state } = await loadFleet(repoRoot);
    const tenants = new Map(state!.tenants.map((t) => [t.spec.slug, t]));
    expect(state!.tenants.filter((t) => t.spec.canary).map((t) => t.spec.slug)).toEqual(['acme']);
    expect(tenants.get('acme')!.effective.image).toBe('ghcr.io/example/platform:1.5.0-rc.1');
    expect(tenants.get('globex')!.effective.image).toBe('ghcr.io/example/platform:1.4.2');
    expect(tenants.get('initech')!.effective.instanceType).toBe('t3.medium');
    expect(tenants.get('umbrella')!.spec.power).toBe('stopped');
    const research = tenants.get('acme')!.workspaces.find((w) => w.spec.name === 'research')!;
    expect(research.effective).toEqual({ tier: 'T4', instanceType: 't3.large', volumeGb: 80, ami: 'ami-0a1b2c3d4e5f60718', image: 'ghcr.io/example/hermes:2.1.0' });
    const support = tenants.get('acme')!.workspaces.find((w) => w.spec.name === 'support')!;
    expect(support.spec.tier).toBe('T3');
    expect(support.effective.tier).toBe('T4');
    expect(tenants.get('globex')!.workspaces[0]!.spec.power).toBe('stopped');
    expect(state!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(state!.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('defaults', () => {
  it('fills every optional fleet setting from the documented defaults', async () => {
    const { state } = await loadFleet(makeFleet());
    const fleet = state!.fleet;
    expect(fleet.tenant).toEqual({ instanceType: 't3.small', volumeGb: 30, platformPort: 8080 });
    expect(fleet.tiers.map((t) => [t.name, t.instanceType, t.volumeGb, t.reserved])).toEqual([
      ['T3', 't3.medium', 40, true],
      ['T4', 't3.large', 80, false],
    ]);
    expect(fleet.tierClamp).toEqual({ min: 'T4', max: 'T4' });
    expect(fleet.volumeFloors).toEqual({ hermes: 50 });
    expect(fleet.guards.maxDeletes).toBe(3);
    expect(fleet.deletion.secretRecoveryWindowDays).toBe(7);
    expect(fleet.rollout).toEqual({ batches: [{ count: 1 }, { percent: 25 }, { percent: 100 }], maxFailureRatio: 0.1 });
    expect(fleet.budgets.ec2.runInstances).toEqual({ perSecond: 2, burst: 5 });
    expect(fleet.budgets.ec2.terminateInstances).toEqual({ perSecond: 5, burst: 100 });
    expect(fleet.budgets.cloudflare).toEqual({ requests: 1200, windowSeconds: 300 });
    expect(fleet.budgets.concurrency).toBe(16);
    const tenant = state!.tenants[0]!;
    expect(tenant.spec).toMatchObject({ canary: false, power: 'running', deletionProtection: false, instanceType: undefined });
    expect(tenant.workspaces[0]!.spec.power).toBe('running');
  });

  it('merges a partial budget override with the defaults', async () => {
    const { state } = await loadFleet(makeFleet({ 'fleet.yaml': fleetWith('budgets:\n  ec2:\n    runInstances: { perSecond: 1 }\n') }));
    expect(state!.fleet.budgets.ec2.runInstances).toEqual({ perSecond: 1, burst: 5 });
    expect(state!.fleet.budgets.ec2.mutate).toEqual({ perSecond: 5, burst: 50 });
  });
});

describe('effective values and their notices', () => {
  it('reports a clamped tier with the instance type and volume it runs as', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet({ [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'hermes', 'T3') }));
    expect(bySeverity(diagnostics, 'notice')).toEqual([
      { severity: 'notice', file: W, line: 5, col: 7, path: 'tier', message: 'Tier T3 runs as T4 (t3.large, 80 GB) because the fleet clamps tiers to T4..T4.' },
    ]);
    expect(state!.tenants[0]!.workspaces[0]!.effective).toMatchObject({ tier: 'T4', instanceType: 't3.large', volumeGb: 80 });
  });

  it('names a reserved tier as the cause when the clamp did not move it, and the clamp when it did', async () => {
    const tiers =
      'tiers:\n  - { name: T2, instanceType: t3.small, volumeGb: 30 }\n  - { name: T3, instanceType: t3.medium, volumeGb: 40, reserved: true }\n  - { name: T4, instanceType: t3.large, volumeGb: 80 }\n  - { name: T5, instanceType: t3.xlarge, volumeGb: 100 }\n';
    const wide = await loadFleet(
      makeFleet({ 'fleet.yaml': fleetWith(`${tiers}tierClamp: { min: T2, max: T5 }\n`), [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'hermes', 'T3') }),
    );
    expect(bySeverity(wide.diagnostics, 'notice').map((d) => d.message)).toEqual([
      'Tier T3 runs as T4 (t3.large, 80 GB) because T3 is reserved (a reserved tier runs as the nearest usable tier above it, else below).',
    ]);
    const tiers2 =
      'tiers:\n  - { name: T1, instanceType: t3.micro, volumeGb: 20 }\n  - { name: T2, instanceType: t3.small, volumeGb: 30 }\n  - { name: T3, instanceType: t3.medium, volumeGb: 40, reserved: true }\n  - { name: T4, instanceType: t3.large, volumeGb: 80 }\n';
    const both = await loadFleet(
      makeFleet({
        'fleet.yaml': fleetWith(`${tiers2}tierClamp: { min: T2, max: T4 }\n`),
        [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'hermes', 'T1'),
      }),
    );
    expect(
      bySeverity(both.diagnostics, 'notice')
        .filter((d) => d.path === 'tier')
        .map((d) => d.message),
    ).toEqual(['Tier T1 runs as T2 (t3.small, 30 GB) because the fleet clamps tiers to T2..T4.']);
  });

  it('raises the volume to the runtime floor and says so', async () => {
    const fleet = fleetWith('tiers:\n  - { name: S, instanceType: t3.medium, volumeGb: 40 }\n');
    const { state, diagnostics } = await loadFleet(makeFleet({ 'fleet.yaml': fleet, [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'hermes', 'S') }));
    expect(bySeverity(diagnostics, 'notice')).toEqual([
      { severity: 'notice', file: W, line: 4, col: 10, path: 'runtime', message: 'The volume is raised from 40 GB to 50 GB, the floor for the hermes runtime.' },
    ]);
    expect(state!.tenants[0]!.workspaces[0]!.effective.volumeGb).toBe(50);
  });

  it('falls back to the default AMI for an unpinned runtime with one warning per runtime', async () => {
    const { state, diagnostics } = await loadFleet(
      makeFleet({
        [W]: workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e001', '', 'openclaw'),
        'tenants/acme/workspaces/second.yaml': workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002', '', 'openclaw'),
      }),
    );
    expect(bySeverity(diagnostics, 'warning')).toEqual([
      {
        severity: 'warning',
        file: W,
        line: 4,
        col: 10,
        path: 'runtime',
        message: 'Runtime openclaw has no AMI pin for us-east-2 in fleet.yaml, so its 2 workspaces use the default AMI (ami-06dd88604c99ec11f).',
      },
    ]);
    expect(state!.tenants[0]!.workspaces.map((w) => w.effective.ami)).toEqual(['ami-06dd88604c99ec11f', 'ami-06dd88604c99ec11f']);
  });

  it('warns about images that float', async () => {
    const { diagnostics } = await loadFleet(makeFleet({ [W]: `${BASE_FILES[W]}image: ghcr.io/acme/agent\n` }));
    expect(bySeverity(diagnostics, 'warning')).toEqual([
      {
        severity: 'warning',
        file: W,
        line: 6,
        col: 8,
        path: 'image',
        message: 'The image ghcr.io/acme/agent has no tag or digest, so it means :latest, which changes under you; pin a tag or digest.',
      },
    ]);
  });

  it('accepts digests and registry ports in image references', async () => {
    const image = 'registry.example.com:5000/acme/agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    const { state, diagnostics } = await loadFleet(makeFleet({ [W]: `${BASE_FILES[W]}image: ${image}\n` }));
    expect(diagnostics).toEqual([]);
    expect(state!.tenants[0]!.workspaces[0]!.effective.image).toBe(image);
  });
});

describe('the default AMI', () => {
  const noDefault = BASE_FILES['fleet.yaml']!.replace('defaultAmi: ami-06dd88604c99ec11f\n', '');

  it('is a warning when missing and no environment is given', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet({ 'fleet.yaml': noDefault }));
    expect(bySeverity(diagnostics, 'warning').map((d) => d.message)).toEqual([
      'fleet.yaml sets no defaultAmi, so tenants and runtimes without an AMI pin will use EC2_AMI, which must then be set when planning and applying.',
    ]);
    expect(state).toBeDefined();
  });

  it('is an error when missing from both fleet.yaml and the environment', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet({ 'fleet.yaml': noDefault }), { env: {} });
    expect(bySeverity(diagnostics, 'error')).toEqual([
      {
        severity: 'error',
        file: 'fleet.yaml',
        line: 1,
        col: 1,
        path: 'defaultAmi',
        message: 'No default AMI: fleet.yaml sets no defaultAmi and EC2_AMI is not set, so tenants and runtimes without an AMI pin have nothing to boot.',
      },
    ]);
    expect(state).toBeUndefined();
  });

  it('comes from EC2_AMI when fleet.yaml sets none', async () => {
    const { state } = await loadFleet(makeFleet({ 'fleet.yaml': noDefault }), { env: { EC2_AMI: 'ami-0123456789abcdef0' } });
    expect(state!.tenants[0]!.effective.ami).toBe('ami-0123456789abcdef0');
  });

  it('rejects an EC2_AMI that is not an AMI id without echoing more than the variable name', async () => {
    const { diagnostics } = await loadFleet(makeFleet({ 'fleet.yaml': noDefault }), { env: { EC2_AMI: 'image-1' } });
    expect(bySeverity(diagnostics, 'error').map((d) => [d.path, d.message])).toContainEqual([
      'EC2_AMI',
      'EC2_AMI is not an AMI id (ami- followed by 8 or 17 lower-case hexadecimal digits).',
    ]);
  });
});

describe('empty fleets', () => {
  it('are accepted with --allow-empty', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet({ 'tenants/acme/tenant.yaml': null, [W]: null }), { allowEmpty: true });
    expect(diagnostics).toEqual([]);
    expect(state!.tenants).toEqual([]);
  });
});

describe('loading only some tenants', () => {
  const twoTenants = {
    'tenants/globex/tenant.yaml': tenantYaml('globex', '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002'),
    'tenants/globex/workspaces/ops.yaml': workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002'),
  };

  it('returns the selected tenants and marks the state partial', async () => {
    const { state } = await loadFleet(makeFleet(twoTenants), { only: { slugs: ['globex', 'gone'] } });
    expect(state!.tenants.map((t) => t.spec.slug)).toEqual(['globex']);
    expect(state!.partial).toEqual({ slugs: ['globex', 'gone'] });
  });

  it('skips the workspaces of unselected tenants', async () => {
    const dir = makeFleet({ ...twoTenants, [W]: 'not: [valid' });
    expect((await loadFleet(dir, { only: { slugs: ['globex'] } })).state).toBeDefined();
    expect((await loadFleet(dir)).state).toBeUndefined();
  });

  it('loads no tenant, without the empty-fleet error, when a change touched no tenant', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet(twoTenants), { only: { slugs: [] } });
    expect(diagnostics).toEqual([]);
    expect(state!.tenants).toEqual([]);
    expect(state!.partial).toEqual({ slugs: [] });
  });

  it('still checks orgIds against every tenant', async () => {
    const { diagnostics } = await loadFleet(makeFleet({ 'tenants/globex/tenant.yaml': tenantYaml('globex', '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001') }), {
      only: { slugs: ['globex'] },
    });
    expect(bySeverity(diagnostics, 'error').map((d) => d.file)).toEqual(['tenants/globex/tenant.yaml']);
  });
});

describe('the desired hash and commit', () => {
  it('ignores formatting and comments but changes with the content', async () => {
    const a = await loadFleet(makeFleet());
    const reformatted = `# a comment\n${BASE_FILES[W]!.replace('tier: T4', 'tier: "T4"   # quoted')}`;
    const b = await loadFleet(makeFleet({ [W]: reformatted }));
    const c = await loadFleet(makeFleet({ [W]: `${BASE_FILES[W]}power: stopped\n` }));
    expect(b.state!.hash).toBe(a.state!.hash);
    expect(c.state!.hash).not.toBe(a.state!.hash);
  });

  it('records HEAD when the repository is a git work tree, and nothing otherwise', async () => {
    const dir = makeFleet();
    expect((await loadFleet(dir)).state!.commit).toBeUndefined();
    const git = simpleGit({ baseDir: dir });
    await git.init();
    expect((await loadFleet(dir)).state!.commit, 'a work tree with no commits has no HEAD').toBeUndefined();
    await git.add('.');
    await git.raw(['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'fleet']);
    const head = (await git.revparse(['HEAD'])).trim();
    expect((await loadFleet(dir)).state!.commit).toBe(head);
  });
});

describe('file encoding', () => {
  it('accepts a real U+FFFD and drops a leading BOM', async () => {
    const T = 'tenants/acme/tenant.yaml';
    const { state, diagnostics } = await loadFleet(makeFleet({ [T]: `\uFEFF${BASE_FILES[T]}# caf\uFFFD\n` }));
    expect(diagnostics).toEqual([]);
    expect(state!.tenants[0]!.spec.slug).toBe('acme');
  });
});

describe('in-repository symlinks and ignored dotfiles', () => {
  it('ignores .gitkeep and similar dotfiles', async () => {
    const dir = makeFleet({ 'tenants/.DS_Store': 'x', 'tenants/acme/workspaces/.gitkeep': '' });
    const { diagnostics } = await loadFleet(dir);
    expect(diagnostics).toEqual([]);
  });

  it('reports a repository directory that does not exist', async () => {
    const dir = makeFleet();
    const missing = join(dir, 'nope');
    const { state, diagnostics } = await loadFleet(missing);
    expect(state).toBeUndefined();
    expect(diagnostics).toEqual([
      { severity: 'error', file: '.', line: 1, col: 1, path: '', message: `The fleet repository ${missing} does not exist or is not a directory.` },
    ]);
  });

  it('reports a workspaces entry that is a file', async () => {
    const { diagnostics } = await loadFleet(makeFleet({ [W]: null, 'tenants/acme/workspaces': 'oops' }));
    expect(diagnostics.map((d) => [d.file, d.message])).toEqual([['tenants/acme/workspaces', 'workspaces must be a folder holding one <name>.yaml file per workspace.']]);
  });

  it('follows a symlink that stays inside the repository', async () => {
    const dir = makeFleet({ 'templates/worker.yaml': workspaceYaml('0b8e4f7a-61c2-4d3e-8f90-a1b2c3d4e002') });
    symlinkSync('../../../templates/worker.yaml', join(dir, 'tenants/acme/workspaces/worker.yaml'));
    const { state, diagnostics } = await loadFleet(dir);
    expect(diagnostics).toEqual([]);
    expect(state!.tenants[0]!.workspaces.map((w) => w.spec.name)).toEqual(['main', 'worker']);
  });
});
