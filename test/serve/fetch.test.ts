import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, describe, expect, it } from 'vitest';
import { FetchError, fetchFastForward } from '../../src/serve/fetch.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

const IDENTITY = ['-c', 'user.name=test', '-c', 'user.email=test@example.dev'];

/** A bare remote, the serve checkout cloned from it, and a second clone a "developer" pushes from. */
export async function gitWorld() {
  const root = mkdtempSync(join(tmpdir(), 'tenantform-serve-git-'));
  made.push(root);
  const remote = join(root, 'remote.git');
  const dev = join(root, 'dev');
  const checkout = join(root, 'checkout');
  await simpleGit().raw(['init', '--bare', '--initial-branch=main', remote]);
  await simpleGit().clone(remote, dev);
  const devGit = simpleGit({ baseDir: dev });
  const commit = async (file: string, text: string) => {
    writeFileSync(join(dev, file), text);
    await devGit.add(file);
    await devGit.raw([...IDENTITY, 'commit', '-q', '-m', `write ${file}`]);
    return (await devGit.revparse(['HEAD'])).trim();
  };
  const first = await commit('fleet.yaml', 'one\n');
  await devGit.raw(['push', '-q', 'origin', 'HEAD:main']);
  await simpleGit().clone(remote, checkout);
  return { remote, dev, checkout, devGit, commit, first };
}

describe('fetch and fast-forward before a job', () => {
  it('picks up a newly pushed commit, and is a no-op when nothing is new', async () => {
    const w = await gitWorld();
    const target = { repoDir: w.checkout, remote: 'origin', branch: 'main' };
    expect(await fetchFastForward(target)).toEqual({ commit: w.first, previous: w.first });
    const second = await w.commit('fleet.yaml', 'two\n');
    await w.devGit.raw(['push', '-q', 'origin', 'HEAD:main']);
    expect(await fetchFastForward(target)).toEqual({ commit: second, previous: w.first });
    expect(readFileSync(join(w.checkout, 'fleet.yaml'), 'utf8')).toBe('two\n');
    expect((await simpleGit({ baseDir: w.checkout }).revparse(['HEAD'])).trim()).toBe(second);
  });

  it('refuses a force-push (not a fast-forward) and leaves the tree as it was', async () => {
    const w = await gitWorld();
    const target = { repoDir: w.checkout, remote: 'origin', branch: 'main' };
    const second = await w.commit('fleet.yaml', 'two\n');
    await w.devGit.raw(['push', '-q', 'origin', 'HEAD:main']);
    await fetchFastForward(target);
    // Rewrite history: drop `second`, commit something else, force-push.
    await w.devGit.raw(['reset', '-q', '--hard', w.first]);
    const rewritten = await w.commit('fleet.yaml', 'rewritten\n');
    await w.devGit.raw(['push', '-q', '--force', 'origin', 'HEAD:main']);
    const error = await fetchFastForward(target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as Error).message).toContain('not a fast-forward');
    expect((error as Error).message).toContain(rewritten.slice(0, 12));
    expect((await simpleGit({ baseDir: w.checkout }).revparse(['HEAD'])).trim()).toBe(second);
    expect(readFileSync(join(w.checkout, 'fleet.yaml'), 'utf8')).toBe('two\n');
  });

  it('fails with a clear message when the remote cannot be fetched, tree untouched', async () => {
    const w = await gitWorld();
    rmSync(w.remote, { recursive: true, force: true });
    const error = await fetchFastForward({ repoDir: w.checkout, remote: 'origin', branch: 'main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as Error).message).toMatch(/^fetch fleet repository origin\/main into .*: git fetch failed: fatal: /);
    expect((await simpleGit({ baseDir: w.checkout }).revparse(['HEAD'])).trim()).toBe(w.first);
  });

  it('refuses when local changes are in the way of the fast-forward', async () => {
    const w = await gitWorld();
    await w.commit('fleet.yaml', 'two\n');
    await w.devGit.raw(['push', '-q', 'origin', 'HEAD:main']);
    writeFileSync(join(w.checkout, 'fleet.yaml'), 'edited by hand\n');
    const error = await fetchFastForward({ repoDir: w.checkout, remote: 'origin', branch: 'main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as Error).message).toContain('could not fast-forward');
    expect((await simpleGit({ baseDir: w.checkout }).revparse(['HEAD'])).trim()).toBe(w.first);
    expect(readFileSync(join(w.checkout, 'fleet.yaml'), 'utf8')).toBe('edited by hand\n');
  });
});
