/**
 * A bug reaching the CLI — an InternalError, or anything thrown that is not a TenantformError —
 * is one line that says it is a bug and names the run (apply has one), in text and --json; the
 * stack only with TENANTFORM_DEBUG=1. Secrets in the message or the stack stay redacted on every
 * path. A predictable failure (a TenantformError) keeps its one-line form, with no "bug" mark.
 */
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandModule } from '../../src/cli/command.js';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { InputError, InternalError } from '../../src/errors.js';
import { redactor } from '../../src/redact.js';
import { startApplyWorld, type ApplyWorld } from './apply-world.js';

const BUG_LINE = / — this is a bug in tenantform, please report it/;
const STACK_FRAME = /^\s+at /m;

/** A command `boom [--json]` whose action throws `thrown()`. */
function throwing(thrown: () => unknown): CommandModule {
  return {
    register(program: Command) {
      program
        .command('boom')
        .option('--json')
        .action(() => {
          throw thrown();
        });
    },
  };
}

async function runBoom(thrown: () => unknown, args: string[] = [], env: Record<string, string> = {}) {
  const io = memoryIo({ env });
  const code = await main(['boom', ...args], io, [throwing(thrown)]);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

describe('a bug reaching the CLI (in-process command)', () => {
  it('an InternalError: one line naming operation and resource, no stack, exit 1', async () => {
    const r = await runBoom(() => new InternalError('unknown audit state "weird"', { operation: 'classify audit event', resource: 'instance i-1' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: internal error: classify audit event instance i-1: unknown audit state "weird" — this is a bug in tenantform, please report it\n');
  });

  it('a non-TenantformError: its first line only, no stack; a thrown non-error value too', async () => {
    const r = await runBoom(() => new TypeError('cannot read properties of undefined\nsecond line'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: internal error: cannot read properties of undefined — this is a bug in tenantform, please report it\n');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const s = await runBoom(() => 'a bare string');
    expect(s.code).toBe(1);
    expect(s.stderr).toBe('error: internal error: a bare string — this is a bug in tenantform, please report it\n');
  });

  it('with TENANTFORM_DEBUG=1 the stack follows the line, with its causes', async () => {
    const r = await runBoom(() => new InternalError('broken invariant', { operation: 'join inventory', cause: new RangeError('deep cause') }), [], {
      TENANTFORM_DEBUG: '1',
    });
    expect(r.code).toBe(1);
    const [first, ...rest] = r.stderr.split('\n');
    expect(first).toBe('error: internal error: join inventory: broken invariant — this is a bug in tenantform, please report it');
    expect(rest.join('\n')).toMatch(/^InternalError: join inventory: broken invariant\n\s+at /);
    expect(rest.join('\n')).toMatch(/\ncaused by: RangeError: deep cause\n\s+at /);
    // Any other value does not turn debugging on.
    const off = await runBoom(() => new TypeError('x'), [], { TENANTFORM_DEBUG: 'true' });
    expect(off.stderr).not.toMatch(STACK_FRAME);
  });

  it('--json: {"error":{…, "bug": true}} on stdout and the line on stderr; the stack only with TENANTFORM_DEBUG=1', async () => {
    const r = await runBoom(() => new InternalError('broken invariant', { operation: 'join inventory', resource: 'tenant acme' }), ['--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        operation: 'join inventory',
        resource: 'tenant acme',
        message: 'internal error: join inventory tenant acme: broken invariant — this is a bug in tenantform, please report it',
        exitCode: 1,
        bug: true,
      },
    });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const plain = await runBoom(() => new TypeError('oops'), ['--json']);
    expect(JSON.parse(plain.stdout)).toEqual({
      error: { operation: 'tenantform', resource: null, message: 'internal error: oops — this is a bug in tenantform, please report it', exitCode: 1, bug: true },
    });
    const debug = await runBoom(() => new TypeError('oops'), ['--json'], { TENANTFORM_DEBUG: '1' });
    const report = JSON.parse(debug.stdout) as { error: { stack?: string; bug?: boolean } };
    expect(report.error.bug).toBe(true);
    expect(report.error.stack).toMatch(/^TypeError: oops\n\s+at /);
  });

  it('a command that fails while it registers is reported the same way, not thrown out of main', async () => {
    const io = memoryIo();
    const broken: CommandModule = {
      register() {
        throw new TypeError('register exploded');
      },
    };
    expect(await main(['boom'], io, [broken])).toBe(1);
    expect(io.err.join('')).toBe('error: internal error: register exploded — this is a bug in tenantform, please report it\n');
  });

  it('a predictable failure is not called a bug', async () => {
    const r = await runBoom(() => new InputError('no such tenant', { operation: 'plan', resource: 'acme' }), ['--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: plan acme: no such tenant\n');
    expect(JSON.parse(r.stdout)).toEqual({ error: { operation: 'plan', resource: 'acme', message: 'plan acme: no such tenant', exitCode: 1 } });
  });

  it('a registered secret in a bug message or stack is redacted on stdout and stderr', async () => {
    const secret = `bug-secret-${Math.random().toString(36).slice(2)}`;
    redactor.register(secret);
    for (const args of [[], ['--json']]) {
      const r = await runBoom(() => new TypeError(`connect failed for postgres://u:${secret}@db`), args, { TENANTFORM_DEBUG: '1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(BUG_LINE);
      expect(r.stderr).toMatch(STACK_FRAME);
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(r.stdout + r.stderr).toContain('[REDACTED]');
    }
  });
});

describe('a bug during apply', () => {
  let w: ApplyWorld;
  beforeAll(async () => {
    w = await startApplyWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  const runIds = () => {
    const conn = new Database(w.db, { readonly: true });
    try {
      return conn.prepare('SELECT run_id, status, exit_code, summary FROM runs ORDER BY started_at').all() as {
        run_id: string;
        status: string;
        exit_code: number;
        summary: string;
      }[];
    } finally {
      conn.close();
    }
  };
  /** A bug once the lease is held; its message quotes an environment secret. */
  const bug = () => ({
    deps: {
      onLocked: () => {
        throw new TypeError(`cannot read properties of undefined (reading 'token ${w.envSecrets[3]}')\n    at a second line`);
      },
    },
  });

  it('prints one line naming the run it recorded as failed, no stack, the secret redacted; nothing mutated', async () => {
    const traffic = w.mark();
    const r = await w.run(['apply', '--auto-approve'], bug());
    expect(r.code).toBe(1);
    const [run] = runIds().slice(-1);
    expect(run).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(r.stderr).toBe(
      `error: internal error: cannot read properties of undefined (reading 'token [REDACTED]') — this is a bug in tenantform, please report it (run ${run!.run_id})\n`,
    );
    expect(traffic()).toEqual({ aws: [], cf: [] });
    for (const s of w.envSecrets) expect(r.stdout + r.stderr + w.auditText()).not.toContain(s);
  });

  it('--json: the run id in the error object; with TENANTFORM_DEBUG=1 the stack too, redacted', async () => {
    const r = await w.run(['apply', '--auto-approve', '--json'], bug());
    expect(r.code).toBe(1);
    const [run] = runIds().slice(-1);
    const report = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    expect(report.error).toEqual({
      operation: 'tenantform',
      resource: null,
      message: `internal error: cannot read properties of undefined (reading 'token [REDACTED]') — this is a bug in tenantform, please report it (run ${run!.run_id})`,
      exitCode: 1,
      bug: true,
      runId: run!.run_id,
    });

    const debug = await w.run(['apply', '--auto-approve', '--json'], { ...bug(), io: { env: { ...w.env, TENANTFORM_DEBUG: '1' } } });
    expect(debug.code).toBe(1);
    const [debugRun] = runIds().slice(-1);
    const withStack = JSON.parse(debug.stdout) as { error: { runId?: string; stack?: string } };
    expect(withStack.error.runId).toBe(debugRun!.run_id);
    expect(withStack.error.stack).toMatch(/^TypeError: cannot read properties of undefined \(reading 'token \[REDACTED\]'\)\n/);
    expect(withStack.error.stack).toMatch(STACK_FRAME);
    expect(debug.stderr.split('\n')[0]).toMatch(new RegExp(`${BUG_LINE.source} \\(run ${debugRun!.run_id}\\)$`));
    expect(debug.stderr).toMatch(STACK_FRAME);
    for (const s of w.envSecrets) expect(r.stdout + r.stderr + debug.stdout + debug.stderr + w.auditText()).not.toContain(s);
  });
});
