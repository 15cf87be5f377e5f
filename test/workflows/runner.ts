/**
 * A small local runner for the project's workflows, so a test runs the commands a workflow runs,
 * in its order, with its exit-code handling, read from the YAML itself (a change to the workflow is
 * a change to what the test runs). It does what an Actions runner does for `run:` steps: job and
 * step `env:` with `${{ }}` expressions evaluated, `if:` conditions, `$GITHUB_OUTPUT`,
 * `$GITHUB_STEP_SUMMARY`, `$RUNNER_TEMP`, `bash --noprofile --norc -eo pipefail`, job outputs and
 * `needs`. `uses:` steps are not run: their `if:`, `env:` and `with:` are evaluated and recorded,
 * so a test can check what they would have been given. The step with id `install-tenantform` is
 * replaced by a `tenantform` on PATH that runs this checkout's built CLI.
 *
 * Expressions: the subset the workflows use (context paths, string literals, ==, !=, &&, ||, !,
 * parentheses, success(), failure(), always(), cancelled()). An unknown `github.*` path throws, so
 * a workflow using a context the test does not provide fails loudly instead of reading ''.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const INSTALL_STEP_ID = 'install-tenantform';

interface StepDef {
  id?: string;
  name?: string;
  if?: string | boolean;
  run?: string;
  uses?: string;
  env?: Record<string, string | number | boolean>;
  with?: Record<string, string | number | boolean>;
}
interface JobDef {
  needs?: string | string[];
  if?: string;
  environment?: string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  env?: Record<string, string | number | boolean>;
  outputs?: Record<string, string>;
  steps: StepDef[];
}
export interface WorkflowDef {
  name: string;
  on: unknown;
  jobs: Record<string, JobDef>;
}

export interface RunContext {
  /** The `github` context: only what the workflows read (event, ref_name, …). */
  github: Record<string, unknown>;
  /** Repository/environment secrets and variables, by name. */
  secrets: Record<string, string>;
  vars: Record<string, string>;
  /** The runner machine's own environment (PATH is prefixed with the tenantform shim). */
  machineEnv: Record<string, string>;
  /** The checkout: where run: steps start. */
  workspace: string;
  tenantformBin: string;
}

export interface StepRun {
  id: string | undefined;
  name: string;
  kind: 'run' | 'uses' | 'install';
  /** Whether its `if:` let it run (for uses: steps, whether it would have). */
  ran: boolean;
  code: number | undefined;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** Evaluated `env:` and `with:` (uses: steps). */
  env: Record<string, string>;
  with: Record<string, string>;
  uses: string | undefined;
  script: string | undefined;
}

export interface JobRun {
  id: string;
  conclusion: 'success' | 'failure' | 'skipped';
  environment: string | undefined;
  concurrency: { group: string; cancelInProgress: boolean } | undefined;
  steps: StepRun[];
  outputs: Record<string, string>;
  summary: string;
  runnerTemp: string;
}

export function readWorkflow(file: string): WorkflowDef {
  return parseYaml(readFileSync(file, 'utf8')) as WorkflowDef;
}

type Scope = Record<string, unknown> & { fns: Record<string, () => boolean> };

function lookup(scope: Scope, path: string): unknown {
  const [root, ...rest] = path.split('.');
  if (root === 'secrets' || root === 'vars') return (scope[root] as Record<string, string>)[rest.join('.')] ?? '';
  if (!(root! in scope)) throw new Error(`workflow expression reads an unknown context: ${path}`);
  let value: unknown = scope[root!];
  for (const [i, key] of rest.entries()) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      if (root === 'github') throw new Error(`the test gives no ${path} in the github context`);
      return i === rest.length - 1 ? '' : null;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const TOKEN = /\s+|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.-]*(?:\(\))?|==|!=|&&|\|\||!|\(|\)/y;

export function evaluate(expr: string, scope: Scope): unknown {
  let js = '';
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (!m) throw new Error(`unsupported workflow expression at ${start}: ${expr}`);
    const t = m[0];
    if (/^\s+$/.test(t) || ['==', '!=', '&&', '||', '!', '(', ')'].includes(t)) js += t;
    else if (t.startsWith("'")) js += JSON.stringify(t.slice(1, -1).replace(/''/g, "'"));
    else if (t.endsWith('()')) {
      const fn = scope.fns[t.slice(0, -2)];
      if (!fn) throw new Error(`unsupported workflow function ${t}`);
      js += String(fn());
    } else if (t === 'true' || t === 'false' || t === 'null') js += t;
    else js += JSON.stringify(lookup(scope, t) ?? null);
  }
  return new Function(`return (${js});`)() as unknown;
}

export function interpolate(text: string, scope: Scope): string {
  return text.replace(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_, e: string) => {
    const v = evaluate(e, scope);
    return v === null || v === undefined ? '' : String(v);
  });
}

function condition(cond: string | boolean | undefined, scope: Scope): boolean {
  if (cond === undefined) return scope.fns.success!();
  if (typeof cond === 'boolean') return cond;
  const inner = cond.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const usesStatus = /\b(?:success|failure|always|cancelled)\(\)/.test(inner);
  const v = Boolean(evaluate(inner, scope));
  return usesStatus ? v : v && scope.fns.success!();
}

function evalMap(map: Record<string, string | number | boolean> | undefined, scope: Scope): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) out[k] = interpolate(String(v), scope);
  return out;
}

function readOutputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function bash(script: string, cwd: string, env: Record<string, string>, dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `step-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    // Asynchronous: the emulators answer from this very process.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function jobOrder(jobs: Record<string, JobDef>): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const need of [jobs[id]!.needs ?? []].flat()) visit(need);
    order.push(id);
  };
  for (const id of Object.keys(jobs)) visit(id);
  return order;
}

export async function runWorkflow(workflow: WorkflowDef, ctx: RunContext): Promise<Record<string, JobRun>> {
  const base = mkdtempSync(join(tmpdir(), 'tenantform-runner-'));
  const shimDir = join(base, 'bin');
  mkdirSync(shimDir);
  const shim = join(shimDir, 'tenantform');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(ctx.tenantformBin)} "$@"\n`);
  chmodSync(shim, 0o755);

  const results: Record<string, JobRun> = {};
  for (const id of jobOrder(workflow.jobs)) {
    const job = workflow.jobs[id]!;
    const needs: Record<string, unknown> = {};
    for (const n of [job.needs ?? []].flat()) needs[n] = { outputs: results[n]!.outputs, result: results[n]!.conclusion };
    const runnerTemp = join(base, id, 'temp');
    mkdirSync(runnerTemp, { recursive: true });
    const summaryFile = join(base, id, 'summary.md');
    writeFileSync(summaryFile, '');
    let failed = false;
    const steps: Record<string, unknown> = {};
    const scope: Scope = {
      github: ctx.github,
      secrets: ctx.secrets,
      vars: ctx.vars,
      needs,
      steps,
      runner: { temp: runnerTemp, os: 'Linux' },
      fns: { success: () => !failed, failure: () => failed, always: () => true, cancelled: () => false },
    };
    const run: JobRun = { id, conclusion: 'success', environment: undefined, concurrency: undefined, steps: [], outputs: {}, summary: '', runnerTemp };
    results[id] = run;
    const neededOk = Object.values(needs).every((n) => (n as { result: string }).result === 'success');
    if (!neededOk || !condition(job.if, scope)) {
      run.conclusion = 'skipped';
      continue;
    }
    run.environment = job.environment === undefined ? undefined : interpolate(job.environment, scope);
    if (job.concurrency) run.concurrency = { group: interpolate(job.concurrency.group, scope), cancelInProgress: job.concurrency['cancel-in-progress'] ?? false };
    const jobEnv = evalMap(job.env, scope);
    for (const step of job.steps) {
      const kind = step.id === INSTALL_STEP_ID ? 'install' : step.uses ? 'uses' : 'run';
      const record: StepRun = {
        id: step.id,
        name: step.name ?? step.uses ?? step.run?.split('\n')[0] ?? '',
        kind,
        ran: false,
        code: undefined,
        stdout: '',
        stderr: '',
        outputs: {},
        env: {},
        with: {},
        uses: step.uses,
        script: step.run,
      };
      run.steps.push(record);
      if (!condition(step.if, scope)) continue;
      record.ran = true;
      record.env = evalMap(step.env, scope);
      record.with = evalMap(step.with, scope);
      if (kind !== 'run') {
        if (step.id) steps[step.id] = { outputs: {}, outcome: 'success', conclusion: 'success' };
        continue;
      }
      if (step.run!.includes('${{')) throw new Error(`step ${record.name} interpolates an expression into its script; pass it through env: instead`);
      const outputFile = join(base, id, `output-${run.steps.length}`);
      writeFileSync(outputFile, '');
      const env = {
        ...ctx.machineEnv,
        PATH: `${shimDir}:${ctx.machineEnv.PATH ?? ''}`,
        RUNNER_TEMP: runnerTemp,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        GITHUB_WORKSPACE: ctx.workspace,
        CI: 'true',
        ...jobEnv,
        ...record.env,
      };
      const r = await bash(step.run!, ctx.workspace, env, base);
      Object.assign(record, { code: r.code, stdout: r.stdout, stderr: r.stderr, outputs: readOutputs(outputFile) });
      const outcome = r.code === 0 ? 'success' : 'failure';
      if (step.id) steps[step.id] = { outputs: record.outputs, outcome, conclusion: outcome };
      if (r.code !== 0) failed = true;
    }
    run.conclusion = failed ? 'failure' : 'success';
    run.summary = readFileSync(summaryFile, 'utf8');
    run.outputs = evalMap(job.outputs, scope);
  }
  return results;
}
