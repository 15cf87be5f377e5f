/**
 * `npm run bench:validate`: validate a generated fleet of 10,000 tenants × 5 workspaces and
 * compare with a floor measured in the same run: walking the same folders and parsing the same
 * files with `yaml` and nothing else. Each measurement runs in its own child process, so peak
 * memory (maxRSS) belongs to that measurement alone; runs alternate and the median is printed.
 *
 *   npm run bench:validate [-- --tenants N --workspaces M --runs R]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Measurement {
  /** The work alone: from after the imports to the end. */
  ms: number;
  /** Since the process started, imports included. */
  totalMs: number;
  maxRssMb: number;
  files: number;
}

const childScript = fileURLToPath(new URL('./validate-child.mjs', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function uuid(kind: number, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`;
}

function generate(dir: string, tenants: number, workspaces: number): void {
  writeFileSync(
    join(dir, 'fleet.yaml'),
    [
      'apiVersion: tenantform.dev/v1',
      'kind: Fleet',
      'environment: dev',
      'region: us-east-2',
      'appDomain: tenants.example.dev',
      'tenantImage: ghcr.io/example/platform:1.4.2',
      'canaryTenantImage: ghcr.io/example/platform:1.5.0-rc.1',
      'defaultAmi: ami-06dd88604c99ec11f',
      'amiPins:',
      '  hermes: { us-east-2: ami-0a1b2c3d4e5f60718 }',
      '  claude-code: { us-east-2: ami-0f9e8d7c6b5a40312 }',
      'runtimeImages:',
      '  hermes: ghcr.io/example/hermes:2.1.0',
      '',
    ].join('\n'),
  );
  const runtimes = ['hermes', 'claude-code'];
  for (let t = 0; t < tenants; t++) {
    const slug = `tenant-${t.toString().padStart(5, '0')}`;
    const tdir = join(dir, 'tenants', slug, 'workspaces');
    mkdirSync(tdir, { recursive: true });
    writeFileSync(
      join(dir, 'tenants', slug, 'tenant.yaml'),
      `apiVersion: tenantform.dev/v1\nkind: Tenant\nslug: ${slug}\norgId: ${uuid(1, t)}\ncanary: ${t % 100 === 0}\ndeletionProtection: ${t % 7 === 0}\n`,
    );
    for (let w = 0; w < workspaces; w++) {
      writeFileSync(
        join(tdir, `ws-${w}.yaml`),
        `apiVersion: tenantform.dev/v1\nkind: Workspace\nid: ${uuid(2, t * workspaces + w)}\nruntime: ${runtimes[w % 2]}\ntier: ${w === 4 ? 'T3' : 'T4'}\npower: ${w === 3 ? 'stopped' : 'running'}\n`,
      );
    }
  }
}

type Kind = 'floor' | 'validate' | 'cli';

/** Each measurement is a fresh plain-node process (no loader hooks), see validate-child.mjs. */
function measure(kind: Kind, dir: string): Measurement {
  const out = execFileSync(process.execPath, [childScript, kind, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as Measurement;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function run(): Promise<void> {
  const tenants = arg('tenants', 10_000);
  const workspaces = arg('workspaces', 5);
  const runs = arg('runs', 3);
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-bench-'));
  try {
    const t0 = Date.now();
    generate(dir, tenants, workspaces);
    console.log(`fleet: ${tenants} tenants × ${workspaces} workspaces = ${1 + tenants * (1 + workspaces)} files (generated in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const kinds: Kind[] = ['floor', 'validate', 'cli'];
    const results: Record<Kind, Measurement[]> = { floor: [], validate: [], cli: [] };
    for (let i = 0; i < runs; i++) for (const kind of kinds) results[kind].push(measure(kind, dir));
    const med = (kind: Kind, key: 'ms' | 'totalMs' | 'maxRssMb') => median(results[kind].map((m) => m[key]));
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
    const labels: Record<Kind, string> = {
      floor: 'floor: readdir + yaml.parse',
      validate: 'validate (runValidate, --json)',
      cli: 'tenantform validate (whole CLI)',
    };
    console.log(`median of ${runs} runs, each in its own process:`);
    console.log(`${''.padEnd(33)} ${'work'.padStart(9)} ${'process'.padStart(9)} ${'peak RSS'.padStart(9)}`);
    for (const kind of kinds) {
      console.log(`${labels[kind].padEnd(33)} ${seconds(med(kind, 'ms'))} ${seconds(med(kind, 'totalMs'))} ${`${med(kind, 'maxRssMb').toFixed(0)} MB`.padStart(9)}`);
    }
    console.log(
      `validate / floor: ${(med('validate', 'ms') / med('floor', 'ms')).toFixed(2)}× work (aim ≤ 1.5×), ` +
        `${(med('cli', 'totalMs') / med('floor', 'totalMs')).toFixed(2)}× whole process; ` +
        `peak ${med('validate', 'maxRssMb').toFixed(0)} MB validate, ${med('cli', 'maxRssMb').toFixed(0)} MB whole CLI (aim < 400 MB)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await run();
