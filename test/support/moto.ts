/**
 * moto 5.2.5, unmodified, as a child process.
 *
 * Isolation scheme: one moto server per process (a vitest worker, the emulators script, the demo),
 * started lazily on first use and reused by every test in that process. Tests never share state
 * because each emulator gets its own AWS account id, which the proxy in front of moto injects as
 * `x-moto-account-id` (moto keeps all state per account). So no reset is ever needed, and a product
 * run as a child process lands in the test's account just by talking to the proxy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

export const MOTO_VERSION = '5.2.5';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const venvDir = join(repoRoot, '.venv');
const motoServerBin = join(venvDir, 'bin', 'moto_server');

export const MOTO_INSTALL_HINT =
  `install moto ${MOTO_VERSION} into ${venvDir} by hand: ` + `cd ${repoRoot} && python3 -m venv .venv && .venv/bin/python -m pip install 'moto[server]==${MOTO_VERSION}'`;

export interface MotoServer {
  url: string;
  pid: number;
  stop(): void;
}

function motoInstalled(): boolean {
  if (!existsSync(motoServerBin)) return false;
  const libDir = join(venvDir, 'lib');
  if (!existsSync(libDir)) return false;
  // The dist-info directory names the installed version without starting Python.
  return readdirSync(libDir).some((python) => existsSync(join(libDir, python, 'site-packages', `moto-${MOTO_VERSION}.dist-info`)));
}

/**
 * Installs moto into the repo's .venv when it is missing. `flock` serialises parallel vitest
 * workers, and the check is repeated inside the lock so only the first one installs.
 */
export function ensureMotoInstalled(): string {
  if (motoInstalled()) return motoServerBin;
  process.stderr.write(`moto ${MOTO_VERSION} is not in ${venvDir}: installing it (a minute or two, once)…\n`);
  const script =
    `if [ ! -x .venv/bin/moto_server ] || ! ls -d .venv/lib/*/site-packages/moto-${MOTO_VERSION}.dist-info >/dev/null 2>&1; then ` +
    `python3 -m venv .venv && .venv/bin/python -m pip install --quiet 'moto[server]==${MOTO_VERSION}'; fi`;
  const result = spawnSync('flock', [join(tmpdir(), 'tenantform-moto-install.lock'), 'sh', '-c', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  if (result.status !== 0 || !motoInstalled()) {
    const why = result.error?.message ?? (result.stderr || result.stdout || `exit ${result.status}`).trim().slice(-2000);
    throw new Error(`moto ${MOTO_VERSION} is not installed and installing it failed (${why}). Please ${MOTO_INSTALL_HINT}`);
  }
  return motoServerBin;
}

/**
 * Runs moto's own `moto_server` entry point (moto.server:main, unmodified) plus a watchdog thread
 * that exits when stdin reaches EOF, i.e. when the Node process that spawned it is gone, however
 * it died: vitest tears workers down without running 'exit' handlers, and a SIGKILLed parent
 * runs none at all, so an exit hook alone leaves moto servers behind.
 */
const parentWatchingLauncher = [
  'import os, sys, threading',
  'from moto.server import main',
  'def watch():',
  '    while sys.stdin.buffer.read(4096): pass',
  '    os._exit(0)',
  'threading.Thread(target=watch, daemon=True).start()',
  'main(sys.argv[1:])',
].join('\n');

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** werkzeug's start-up line; with `-p 0` it names the port the kernel gave the listening socket. */
const RUNNING_ON = /Running on (http:\/\/127\.0\.0\.1:\d+)/;

/** The server's URL once it answers. */
async function waitUntilAnswering(child: ChildProcess, output: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}) before answering: ${output().slice(-1500)}`);
    }
    const url = RUNNING_ON.exec(output())?.[1];
    if (url && (await answers(url))) return url;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`moto_server did not answer within 30 s: ${output().slice(-1500)}`);
}

/** The region whose AMIs moto lists (every region gets the same list once MOTO_AMIS_PATH is set). */
const AMI_REGION = 'us-east-2';

/**
 * moto's AMI list plus the example fleet's AMIs, for MOTO_AMIS_PATH. On AWS the fleet's AMIs exist
 * in the operator's account; moto ships its own list and launches any id without checking, so
 * apply's wiring preflight (which describes the AMIs a plan launches) would see them missing. The
 * list keeps moto's default and latest Amazon Linux images (the seed picks one) and adds the fleet's
 * defaultAmi and amiPins as Amazon Linux lookalikes. Written once per moto version and fleet.
 */
function amiListPath(): string {
  const site = readdirSync(join(venvDir, 'lib'))
    .map((python) => join(venvDir, 'lib', python, 'site-packages', 'moto', 'ec2', 'resources'))
    .find((dir) => existsSync(dir));
  if (!site) throw new Error(`moto's EC2 resources are missing under ${venvDir}; ${MOTO_INSTALL_HINT}`);
  const load = (file: string): Array<Record<string, unknown>> => JSON.parse(gunzipSync(readFileSync(join(site, file))).toString('utf8'));
  const images = [...load('amis.json.gz'), ...load(join('latest_amis', `${AMI_REGION}.json.gz`))];
  const fleet = parseYaml(readFileSync(join(repoRoot, 'fleet.yaml'), 'utf8')) as { defaultAmi?: string; amiPins?: Record<string, Record<string, string>> };
  const fleetAmis = new Set([fleet.defaultAmi, ...Object.values(fleet.amiPins ?? {}).flatMap((pins) => Object.values(pins))].filter((a): a is string => !!a));
  const template = images.find((i) => String(i.name ?? '').startsWith('al2023-ami-2023') && i.architecture === 'x86_64') ?? images[0]!;
  const known = new Set(images.map((i) => i.ami_id));
  for (const id of [...fleetAmis].sort()) {
    if (!known.has(id)) images.push({ ...template, ami_id: id, name: `tenantform-example-${id}`, description: 'the example fleet.yaml AMI', tags: {} });
  }
  const text = JSON.stringify(images);
  const path = join(tmpdir(), `tenantform-moto-amis-${MOTO_VERSION}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}`;
    writeFileSync(partial, text);
    renameSync(partial, path);
  }
  return path;
}

/**
 * Starts a fresh moto server on a loopback port that moto binds itself (port 0, read back from its
 * start-up line), so no other process can take the port between choosing and binding it. The
 * caller owns the server.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const bin = ensureMotoInstalled();
  const child = spawn(join(dirname(bin), 'python'), ['-c', parentWatchingLauncher, '-H', '127.0.0.1', '-p', '0'], {
    cwd: repoRoot,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', MOTO_AMIS_PATH: amiListPath() },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // moto logs every request; only the start-up tail is worth keeping for error messages.
    if (stderr.length < 20_000) stderr += chunk.toString();
  });
  const stop = (): void => {
    // Closing stdin makes the watchdog exit at once; SIGTERM is the fallback (moto takes ~1 s on it).
    child.stdin?.destroy();
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', stop);
  const dispose = (): void => {
    process.removeListener('exit', stop);
    stop();
  };
  let url: string;
  try {
    url = await waitUntilAnswering(child, () => stderr);
  } catch (err) {
    dispose();
    throw err;
  }
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  // moto must never keep a test worker or script alive on its own.
  child.unref();
  for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  return { url, pid: child.pid!, stop: dispose };
}

let shared: Promise<MotoServer> | undefined;

/** The process-wide moto server, started on first use and stopped when the process exits. */
export function sharedMotoServer(): Promise<MotoServer> {
  shared ??= startMotoServer().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
