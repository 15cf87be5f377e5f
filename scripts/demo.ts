/**
 * `npm run demo`: the whole job on the example fleet, against local emulators, with nothing to
 * set up. Starts moto (installed into .venv on first use) behind the AWS fault proxy and the
 * Cloudflare double, then runs the built CLI as an operator would: validate, plan, apply, plan
 * again (no changes), remove a tenant in a scratch copy of the fleet repository and apply the
 * cascade delete, plan once more. Prints what exists, read from the emulators, and exits non-zero
 * when any step did not do what it should. Leaves nothing running and no temp files, also on
 * failure or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFleet } from '../src/desired/load.js';
import { takeCensus, censusProblems, identitiesOf, type Census, type DesiredIdentities } from '../test/support/census.js';
import { startEmulators, type Emulators } from '../test/support/emulators.js';
import { sharedMotoServer } from '../test/support/moto.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(REPO_ROOT, 'bin', 'tenantform.js');
const DIST_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** Not deletion-protected (acme is), so the cascade delete goes through. */
const REMOVED_TENANT = 'globex';

class StepFailed extends Error {}

const say = (text: string) => void process.stdout.write(`${text}\n`);
const heading = (text: string) => say(`\n━━ ${text}`);

let currentChild: ChildProcess | undefined;
let emulators: Emulators | undefined;
const tempDirs: string[] = [];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm ci` builds dist/ (prepare); rebuild only when it is missing or older than src/. */
function ensureBuilt(): void {
  if (existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return;
  say('building dist/ (it is missing or older than src/)…');
  const res = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new StepFailed('the build failed');
}

/** Runs the CLI with its output going straight to the terminal; resolves to the exit code. */
function tenantform(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  say(`\n$ tenantform ${args.join(' ')}${cwd === REPO_ROOT ? '' : `   (in ${cwd})`}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    currentChild = child;
    child.once('error', reject);
    child.once('close', (code, signal) => {
      currentChild = undefined;
      resolvePromise(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

async function step(args: string[], expected: number, why: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const code = await tenantform(args, cwd, env);
  if (code !== expected) throw new StepFailed(`\`tenantform ${args.join(' ')}\` exited ${code}, expected ${expected} (${why})`);
  say(`✔ exit ${code}: ${why}`);
}

async function desiredOf(dir: string): Promise<DesiredIdentities> {
  const loaded = await loadFleet(dir);
  if (!loaded.state) throw new StepFailed(`the fleet in ${dir} does not load`);
  return identitiesOf(loaded.state);
}

function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return (
    [...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([v, n]) => `${n} ${v}`)
      .join(', ') || 'none'
  );
}

function printSummary(census: Census, desired: DesiredIdentities): void {
  const live = census.instances.filter((i) => i.state !== 'terminated');
  say('What exists now (read from the emulators):');
  say(`  instances:       ${tally(live.map((i) => `${i.role} ${i.state}`))}; ${census.instances.length - live.length} terminated`);
  for (const t of desired.tenants) {
    // Sorted: tenants and workspaces are created concurrently, so listing order varies run to run.
    const mine = live
      .filter((i) => i.orgId === t.orgId)
      .map((i) => `${i.role}=${i.state}`)
      .sort();
    say(`    ${t.slug.padEnd(10)} ${mine.join(' ')}`);
  }
  say(`  security groups: ${census.groups.length} (${tally(census.groups.map((g) => g.role))})`);
  const activeSecrets = census.secrets.filter((s) => !s.deleted);
  say(`  secrets:         ${activeSecrets.length} active, ${census.secrets.length - activeSecrets.length} scheduled for deletion`);
  const activeTunnels = census.tunnels.filter((t) => !t.deleted);
  say(`  tunnels:         ${activeTunnels.length} active, ${census.tunnels.length - activeTunnels.length} deleted`);
  say(
    `  DNS records:     ${census.records.length} (${
      census.records
        .map((r) => `${r.type} ${r.name}`)
        .sort()
        .join(', ') || 'none'
    })`,
  );
}

async function checkConverged(label: string, desired: DesiredIdentities): Promise<Census> {
  const census = await takeCensus(emulators!.aws.clients(), emulators!.cloudflare, desired.environment);
  const problems = censusProblems(census, desired);
  if (problems.length > 0) throw new StepFailed(`${label}: the emulators do not hold what the fleet declares:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  say(`✔ ${label}: exactly one instance, group, secret, tunnel and CNAME per declared tenant and workspace, nothing else`);
  return census;
}

interface ScratchRepo {
  dir: string;
  git(...args: string[]): void;
}

/** A copy of the example fleet as a git repository of its own, so the demo can commit to it. */
function scratchRepo(): ScratchRepo {
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-demo-fleet-'));
  tempDirs.push(dir);
  cpSync(join(REPO_ROOT, 'fleet.yaml'), join(dir, 'fleet.yaml'));
  cpSync(join(REPO_ROOT, 'tenants'), join(dir, 'tenants'), { recursive: true });
  const git = (...args: string[]) => {
    const res = spawnSync('git', ['-c', 'user.name=tenantform demo', '-c', 'user.email=demo@tenantform.invalid', ...args], { cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new StepFailed(`git ${args.join(' ')} failed in the scratch repository: ${res.stderr || res.error?.message}`);
  };
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'The example fleet');
  return { dir, git };
}

async function run(): Promise<void> {
  const started = Date.now();
  ensureBuilt();
  const fleet = await desiredOf(REPO_ROOT);
  const zone = fleet.appDomain.split('.').slice(-2).join('.');

  heading('Starting the emulators (moto behind the AWS fault proxy, the Cloudflare double)');
  emulators = await startEmulators({ zoneName: zone, appDomain: fleet.appDomain });
  const work = mkdtempSync(join(tmpdir(), 'tenantform-demo-'));
  tempDirs.push(work);
  const secret = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulators.env,
    // The provisioning contract's secrets: random for the demo, never printed by tenantform.
    SECRETS_ENCRYPTION_KEY: secret('enc'),
    PROVISION_SHARED_SECRET: secret('shared'),
    GHCR_PULL_TOKEN: secret('ghcr'),
    CP_ADMIN_API_TOKEN: secret('cpadmin'),
    CP_BASE_URL: 'https://cp.example.dev',
    TENANTFORM_DB: join(work, 'audit.db'),
  };
  say(`AWS endpoint ${emulators.aws.endpoint} (account ${emulators.aws.accountId}), Cloudflare ${emulators.cloudflare.baseURL} (zone ${zone})`);
  say(`audit database ${env.TENANTFORM_DB}`);

  heading('The example fleet: validate, plan, apply');
  await step(['validate'], 0, 'the example fleet is valid', REPO_ROOT, env);
  await step(['plan'], 2, 'changes are planned', REPO_ROOT, env);
  await step(['apply', '--auto-approve'], 0, 'everything applied', REPO_ROOT, env);
  await step(['plan'], 0, 'nothing left to do', REPO_ROOT, env);
  await checkConverged('after apply', fleet);

  heading(`Removing tenant ${REMOVED_TENANT} in a scratch copy of the fleet repository`);
  const { dir: scratch, git } = scratchRepo();
  rmSync(join(scratch, 'tenants', REMOVED_TENANT), { recursive: true });
  git('commit', '--quiet', '-am', `Remove ${REMOVED_TENANT}`);
  say(`git rm -r tenants/${REMOVED_TENANT} && git commit   (in ${scratch})`);
  await step(['plan'], 2, `the delete of ${REMOVED_TENANT} is planned`, scratch, env);
  await step(['apply', '--auto-approve'], 0, `${REMOVED_TENANT} and everything of it deleted`, scratch, env);
  await step(['plan'], 0, 'nothing left to do', scratch, env);
  const remaining = await desiredOf(scratch);
  if (remaining.tenants.some((t) => t.slug === REMOVED_TENANT)) throw new StepFailed(`${REMOVED_TENANT} is still declared in ${scratch}`);
  const census = await checkConverged(`after deleting ${REMOVED_TENANT}`, remaining);
  const removedOrg = fleet.tenants.find((t) => t.slug === REMOVED_TENANT)!.orgId;
  const removedSecret = census.secrets.find((s) => s.name.includes(removedOrg));
  if (!removedSecret?.deleted) throw new StepFailed(`the bootstrap secret of ${REMOVED_TENANT} is not scheduled for deletion`);
  say(`✔ ${REMOVED_TENANT}'s bootstrap secret is scheduled for deletion (its recovery window), its instances are terminated`);

  await step(['history', '--limit', '5'], 0, 'the audit store recorded the runs', scratch, env);

  heading('Summary');
  printSummary(census, remaining);
  say(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: every step did what it should.`);
}

async function cleanUp(): Promise<void> {
  const child = currentChild;
  if (child && child.exitCode === null && child.signalCode === null) {
    // SIGTERM lets the CLI release its lease; give it a moment before the emulators go.
    const gone = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
  }
  if (emulators) {
    await emulators.close();
    emulators = undefined;
    // Started by startEmulators; a moto that never finished starting dies with this process (its stdin watchdog).
    (await sharedMotoServer()).stop();
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

let interrupted = false;
function abandon(why: string, exitCode: number): void {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\ndemo: ${why}, cleaning up\n`);
  void cleanUp().finally(() => process.exit(exitCode));
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => abandon(signal, 130));
// A reader that goes away (`npm run demo | head`) must not leave the emulators or temp dirs behind.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => abandon('output closed', 1));

try {
  await run();
  await cleanUp();
} catch (err) {
  if (!interrupted) {
    process.stderr.write(`\ndemo FAILED: ${err instanceof StepFailed ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanUp();
    process.exitCode = 1;
  }
}
