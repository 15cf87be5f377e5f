/**
 * serve against the emulators: the apply world (moto behind the fault proxy, the Cloudflare
 * double, a copy of the example fleet) made into a git checkout of a bare remote, with a second
 * clone to push from, and `runServe` started in-process on port 0 with a hand-fired schedule.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { memoryIo } from '../../src/cli/io.js';
import { runServe, type ServeDependencies } from '../../src/cli/serve.js';
import type { Serve } from '../../src/serve/daemon.js';
import type { ScheduleFn } from '../../src/serve/scheduler.js';
import { startApplyWorld, type ApplyWorld } from '../cli/apply-world.js';

const IDENTITY = ['-c', 'user.name=test', '-c', 'user.email=test@example.dev'];

export interface ServeWorld {
  world: ApplyWorld;
  serve: Serve;
  url: string;
  stderr: () => string;
  stdout: () => string;
  /** Registered schedules by job. */
  expressions: Map<string, string>;
  /** Commits a change in the developer clone and pushes it (force: rewrite the last commit). */
  push(opts?: PushOptions): Promise<string>;
  stop(): Promise<number>;
}

export interface PushOptions {
  force?: boolean;
  /** Rewrites fleet.yaml in the developer clone: gets its text, returns the new one. */
  fleet?: (text: string) => string;
  /** Edits the developer clone (its directory) before the commit, besides NOTES.md. */
  edit?: (dir: string) => void;
}

export interface ServeRepo {
  world: ApplyWorld;
  push(opts?: PushOptions): Promise<string>;
}

/** The apply world as a git checkout of a bare remote, with `schedules` appended to fleet.yaml. */
export async function startServeRepo(schedules: string): Promise<ServeRepo> {
  const world = await startApplyWorld();
  const dir = world.dir;
  appendFileSync(join(dir, 'fleet.yaml'), schedules);
  writeFileSync(join(dir, '.gitignore'), 'audit.db*\n');
  const git = simpleGit({ baseDir: dir });
  await git.raw(['init', '-q', '--initial-branch=main']);
  await git.add('.');
  await git.raw([...IDENTITY, 'commit', '-q', '-m', 'fleet']);
  const remote = join(dir, '..', `${dir.split('/').pop()}-remote.git`);
  await simpleGit().raw(['clone', '-q', '--bare', dir, remote]);
  await git.raw(['remote', 'add', 'origin', remote]);
  await git.fetch('origin');
  const dev = `${remote}-dev`;
  await simpleGit().clone(remote, dev);
  const devGit = simpleGit({ baseDir: dev });
  let n = 0;
  return {
    world,
    async push(p = {}) {
      writeFileSync(join(dev, 'NOTES.md'), `change ${++n}\n`);
      await devGit.add('NOTES.md');
      if (p.fleet) {
        writeFileSync(join(dev, 'fleet.yaml'), p.fleet(readFileSync(join(dev, 'fleet.yaml'), 'utf8')));
        await devGit.add('fleet.yaml');
      }
      if (p.edit) {
        p.edit(dev);
        await devGit.add('.');
      }
      await devGit.raw([...IDENTITY, 'commit', '-q', ...(p.force ? ['--amend'] : []), '-m', `notes ${n}`]);
      await devGit.raw(['push', '-q', ...(p.force ? ['--force'] : []), 'origin', 'HEAD:main']);
      return (await devGit.revparse(['HEAD'])).trim();
    },
  };
}

export async function startServeWorld(opts: { schedules: string; env?: Record<string, string>; deps?: ServeDependencies } = { schedules: '' }): Promise<ServeWorld> {
  const { world, push } = await startServeRepo(opts.schedules);
  const dir = world.dir;
  const expressions = new Map<string, string>();
  const schedule: ScheduleFn = (expression, _fire, options) => {
    expressions.set(options.name.replace('tenantform-', ''), expression);
    return { stop: () => undefined };
  };
  let stop!: () => void;
  const stopWhen = new Promise<void>((resolve) => (stop = resolve));
  let ready!: (v: { serve: Serve; url: string }) => void;
  const readyP = new Promise<{ serve: Serve; url: string }>((resolve) => (ready = resolve));
  const io = memoryIo({ env: { ...world.env, ...opts.env }, cwd: dir });
  const exit = runServe(io, { listen: '127.0.0.1:0', db: world.db }, { schedule, stopWhen, onReady: (serve, url) => ready({ serve, url }), ...opts.deps });
  const { serve, url } = await Promise.race([readyP, exit.then((code) => Promise.reject(new Error(`serve exited ${code}: ${io.err.join('')}`)))]);
  return {
    world,
    serve,
    url,
    stderr: () => io.err.join(''),
    stdout: () => io.out.join(''),
    expressions,
    push,
    async stop() {
      stop();
      const code = await exit;
      await world.close();
      return code;
    },
  };
}

/** Prometheus text format to `name{a="x",b="y"}` → value (labels sorted by name). */
export function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    series.set(labels.length ? `${m[1]}{${labels.join(',')}}` : m[1]!, Number(m[3]));
  }
  return series;
}
