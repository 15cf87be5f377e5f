/**
 * apply and the fleet repository it acts on: an empty fleet (--allow-empty), a working tree with
 * uncommitted changes (--allow-dirty, recorded as <commit>-dirty), a folder outside git, errors
 * as JSON under --json, and a platform port change reaching every tenant group. Against moto
 * (behind the fault proxy) and the Cloudflare double; results read back with the SDK.
 */
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll } from '../live/fleet.js';
import { ORG, startApplyWorld, tagsOf, type ApplyWorld } from './apply-world.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

describe('apply and the fleet repository', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  const dbRows = <T>(sql: string, ...params: unknown[]): T[] => {
    const conn = new Database(w.db, { readonly: true });
    try {
      return conn.prepare(sql).all(...params) as T[];
    } finally {
      conn.close();
    }
  };
  const editFleet = (edit: (text: string) => string) => {
    const path = join(w.dir, 'fleet.yaml');
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
  };

  it('refuses an empty fleet unless --allow-empty, like plan and validate; with it and nothing live there is nothing to do', async () => {
    renameSync(join(w.dir, 'tenants'), join(w.dir, 'tenants.away'));
    try {
      const traffic = w.mark();
      const refused = await w.run(['apply', '--auto-approve']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('emptyDesired: the fleet declares no tenants; pass --allow-empty');
      const json = await w.run(['apply', '--auto-approve', '--json']);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toEqual({
        error: { operation: 'apply', resource: 'environment dev', message: expect.stringContaining('emptyDesired'), exitCode: 3 },
      });
      const allowed = await w.run(['apply', '--auto-approve', '--allow-empty']);
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toContain('No changes');
      expect(traffic()).toEqual({ aws: [], cf: [] });
    } finally {
      renameSync(join(w.dir, 'tenants.away'), join(w.dir, 'tenants'));
    }
  });

  it('prints every error as one JSON object on stdout under --json, with the exit code of the text form', async () => {
    const unknown = await w.run(['apply', '--json', '--no-such-flag']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: { operation: 'read command line', resource: null, message: "unknown option '--no-such-flag'", exitCode: 1 } });

    const tenantFile = join(w.dir, 'tenants', 'acme', 'tenant.yaml');
    const good = readFileSync(tenantFile, 'utf8');
    writeFileSync(tenantFile, good.replace(/^orgId: .*$/m, 'orgId: 42'));
    try {
      for (const cmd of [['apply', '--auto-approve'], ['plan']]) {
        const res = await w.run([...cmd, '--json']);
        expect(res.code).toBe(1);
        const { error } = JSON.parse(res.stdout) as { error: { operation: string; message: string; exitCode: number; diagnostics: { file: string }[] } };
        expect(error.operation).toBe('load fleet');
        expect(error.exitCode).toBe(1);
        expect(error.diagnostics.map((d) => d.file)).toContain('tenants/acme/tenant.yaml');
      }
    } finally {
      writeFileSync(tenantFile, good);
    }

    const history = await w.run(['history', '--json', '--limit', 'zero']);
    expect(history.code).toBe(1);
    expect(JSON.parse(history.stdout).error).toMatchObject({ resource: '--limit', exitCode: 1 });
  });

  it('applies from a folder outside git as before, saying in one line that no commit is recorded', async () => {
    const res = await w.run(['apply', '--auto-approve']);
    expect(res.code).toBe(0);
    expect(res.stderr.split('\n').filter((l) => l.includes('is not in a git work tree'))).toEqual([
      `note: ${w.dir} is not in a git work tree, so this run records no commit`,
    ]);
    expect(dbRows<{ git_commit: string | null }>('SELECT git_commit FROM runs')).toEqual([
      { git_commit: null },
      { git_commit: null },
      { git_commit: null },
      { git_commit: null },
    ]);
  });

  it('refuses uncommitted changes to the fleet files, naming them; --allow-dirty applies them and records <commit>-dirty', async () => {
    writeFileSync(join(w.dir, '.gitignore'), 'audit.db*\n');
    const umbrella = join(w.dir, 'tenants', 'umbrella');
    rmSync(umbrella, { recursive: true });
    const head = await commitAll(w.dir, 'umbrella leaves');
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(await w.instances(ORG.umbrella)).toEqual([]);

    // Back in the working tree only (untracked), plus a file that shapes nothing (not dirty).
    cpSync(join(REPO_ROOT, 'tenants', 'umbrella'), umbrella, { recursive: true });
    writeFileSync(join(w.dir, 'notes.txt'), 'scratch\n');
    const traffic = w.mark();
    const refused = await w.run(['apply', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `error: apply ${w.dir}: the fleet repository has uncommitted changes to 1 file (tenants/umbrella/tenant.yaml); commit them, or pass --allow-dirty to apply the working tree as it is`,
    ]);
    expect(traffic()).toEqual({ aws: [], cf: [] });

    const dirty = await w.run(['apply', '--auto-approve', '--allow-dirty']);
    expect(dirty.code).toBe(0);
    expect(dirty.stderr).toContain(`recorded as ${head}-dirty`);
    const [instance] = await w.instances(ORG.umbrella);
    expect(tagsOf(instance!).GitCommit).toBe(`${head}-dirty`);
    const groups = (await w.check.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:OrgID', Values: [ORG.umbrella] }] }))).SecurityGroups ?? [];
    expect(groups.map((g) => tagsOf(g).GitCommit)).toEqual([`${head}-dirty`]);
    const [run] = dbRows<{ git_commit: string; summary: string }>('SELECT git_commit, summary FROM runs ORDER BY started_at DESC LIMIT 1');
    expect(run!.git_commit).toBe(`${head}-dirty`);
    expect(JSON.parse(run!.summary).dirtyTree).toEqual(['tenants/umbrella/tenant.yaml']);
    const rows = dbRows<{ git_commit: string }>('SELECT DISTINCT git_commit FROM tenant_resources WHERE org_id = ?', ORG.umbrella);
    expect(rows.map((r) => r.git_commit)).toContain(`${head}-dirty`);

    const clean = await commitAll(w.dir, 'umbrella is back');
    const again = await w.run(['apply', '--auto-approve']);
    expect(again.code).toBe(0);
    expect(dbRows<{ git_commit: string }>('SELECT git_commit FROM runs ORDER BY started_at DESC LIMIT 1')).toEqual([{ git_commit: clean }]);
  });

  it('moves the platform port on every tenant group: the old rule revoked, the new one authorised, then nothing to do', async () => {
    const tenantGroups = async () =>
      (
        await w.check.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'tag:Role', Values: ['tenant'] },
              { Name: 'tag:Env', Values: ['dev'] },
            ],
          }),
        )
      ).SecurityGroups ?? [];
    const cidrPorts = (g: Awaited<ReturnType<typeof tenantGroups>>[number]) =>
      (g.IpPermissions ?? []).filter((p) => (p.IpRanges ?? []).length > 0).map((p) => `${p.FromPort}-${p.ToPort}`);
    expect((await tenantGroups()).map(cidrPorts)).toEqual([['8080-8080'], ['8080-8080'], ['8080-8080'], ['8080-8080']]);

    editFleet((t) => t.replace('  volumeGb: 30\n', '  volumeGb: 30\n  platformPort: 8443\n'));
    await commitAll(w.dir, 'platform port 8443');
    const plan = await w.run(['plan', '--json']);
    expect(plan.code).toBe(2);
    const actions = (JSON.parse(plan.stdout) as { actions: { id: string; steps: { resource: string; op: string }[] }[] }).actions;
    expect(actions.map((a) => a.id).sort()).toEqual([ORG.acme, ORG.globex, ORG.initech, ORG.umbrella].map((o) => `update:tenant:${o}`).sort());
    expect(actions.every((a) => a.steps.length === 1 && a.steps[0]!.resource === 'securityGroup' && a.steps[0]!.op === 'modify')).toBe(true);

    const traffic = w.mark();
    const applied = await w.run(['apply', '--auto-approve']);
    expect(applied.code).toBe(0);
    const calls = traffic().aws;
    expect(calls.filter((c) => c === 'RevokeSecurityGroupIngress')).toHaveLength(4);
    expect(calls.filter((c) => c === 'AuthorizeSecurityGroupIngress')).toHaveLength(4);
    const after = await tenantGroups();
    expect(after.map(cidrPorts)).toEqual([['8443-8443'], ['8443-8443'], ['8443-8443'], ['8443-8443']]);
    // tcp/22 from the EIC group is untouched.
    expect(after.every((g) => (g.IpPermissions ?? []).some((p) => p.FromPort === 22 && (p.UserIdGroupPairs ?? []).length === 1))).toBe(true);

    const quiet = w.mark();
    expect((await w.run(['plan'])).code).toBe(0);
    expect((await w.run(['apply', '--auto-approve'])).code).toBe(0);
    expect(quiet()).toEqual({ aws: [], cf: [] });
  });
});
