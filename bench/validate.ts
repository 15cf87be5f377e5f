/**
 * `npm run bench:validate`: validate a generated fleet of 10,000 tenants × 5 workspaces and
 * compare with a floor measured in the same run: walking the same folders and parsing the same
 * files with `yaml` and nothing else. Each measurement runs in its own child process, so peak
 * memory (maxRSS) belongs to that measurement alone; runs alternate and the median is printed.
 *
 *   npm run bench:validate [-- --tenants N --workspaces M --runs R]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedTenants, writeFleet } from '../test/live/fleet.js';

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

/** The example fleet.yaml and generated tenants, varied so every rule and notice has work to do. */
function generate(dir: string, tenants: number, workspaces: number): void {
  const varied = generatedTenants(tenants, workspaces).map((t, i) => ({
    ...t,
    canary: i % 100 === 0,
    deletionProtection: i % 7 === 0,
    workspaces: t.workspaces.map((w, j) => ({ ...w, tier: j === 4 ? 'T3' : 'T4', ...(j === 3 ? { power: 'stopped' as const } : {}) })),
  }));
  writeFleet(dir, 'tenants.example.dev', varied);
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
    console.log(
      `fleet: ${tenants} tenants × ${workspaces} workspaces = ${1 + tenants * (1 + workspaces)} files (generated in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
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
