/**
 * A world for apply tests: a fresh AWS account in moto (behind the fault proxy), a Cloudflare
 * double serving the example fleet's zone, a copy of the example fleet repository in a temp dir,
 * an audit database, and the product environment with secret values to hunt for in the output.
 * Runs go through `main` with the apply command's clock seam set to virtual time, so polls and
 * backoffs of minutes pass in milliseconds.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { applyCommand, applyCommandWith, type ApplyDependencies } from '../../src/cli/apply.js';
import { memoryIo, type Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadCommands } from '../../src/cli/commands.js';
import type { CommandModule } from '../../src/cli/command.js';
import { virtualClock } from '../apply/harness.js';
import { startAwsEmulator, type AwsEmulator, type AwsTestClients } from '../support/aws.js';
import { startCloudflareDouble, type CloudflareDouble } from '../support/cloudflare-double/index.js';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const ZONE = 'example.dev';

export const ORG = {
  acme: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b001',
  globex: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b002',
  initech: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b003',
  umbrella: '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b004',
} as const;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ApplyWorld {
  aws: AwsEmulator;
  cf: CloudflareDouble;
  check: AwsTestClients;
  dir: string;
  db: string;
  env: Record<string, string>;
  /** The secret values put in the environment. */
  envSecrets: string[];
  run(args: string[], opts?: { deps?: ApplyDependencies; io?: Partial<Io> }): Promise<RunResult>;
  /** Mutating AWS calls and non-GET Cloudflare requests from now on. */
  mark(): () => { aws: string[]; cf: string[] };
  instances(orgId: string, states?: string[]): Promise<Instance[]>;
  /** Every text the audit database holds (runs and resource rows), for secret hunting. */
  auditText(): string;
  auditRows(): Array<{ kind: string; resource_id: string; org_id: string; state: string; details: string | null }>;
  runs(): Array<{ status: string; exit_code: number | null; command: string }>;
  close(): Promise<void>;
}

export async function startApplyWorld(): Promise<ApplyWorld> {
  const aws = await startAwsEmulator();
  const cf = await startCloudflareDouble({ zoneName: ZONE });
  const dir = mkdtempSync(join(tmpdir(), 'tenantform-apply-'));
  cpSync(join(REPO_ROOT, 'fleet.yaml'), join(dir, 'fleet.yaml'));
  cpSync(join(REPO_ROOT, 'tenants'), join(dir, 'tenants'), { recursive: true });
  const db = join(dir, 'audit.db');
  const secret = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;
  const envSecrets = [secret('enc'), secret('shared'), secret('ghcr'), secret('cpadmin')];
  const env: Record<string, string> = {
    ...aws.env,
    ...cf.env,
    SECRETS_ENCRYPTION_KEY: envSecrets[0]!,
    PROVISION_SHARED_SECRET: envSecrets[1]!,
    GHCR_PULL_TOKEN: envSecrets[2]!,
    CP_ADMIN_API_TOKEN: envSecrets[3]!,
    CP_BASE_URL: 'https://cp.example.dev',
  };
  const check = aws.clients();
  const readDb = <T>(read: (conn: Database.Database) => T): T => {
    const conn = new Database(db, { readonly: true });
    try {
      return read(conn);
    } finally {
      conn.close();
    }
  };

  return {
    aws,
    cf,
    check,
    dir,
    db,
    env,
    envSecrets,
    async run(args, opts = {}) {
      const io = memoryIo({ env, cwd: dir, ...opts.io });
      // The apply command with virtual time; every other command as shipped.
      const timed = applyCommandWith({ clock: virtualClock(), ...opts.deps });
      const modules: CommandModule[] = (await loadCommands(args)).map((m) => (m === applyCommand ? timed : m));
      const code = await main(args[0] === 'apply' ? [...args, '--db', db] : args, io, modules);
      return { code, stdout: io.out.join(''), stderr: io.err.join('') };
    },
    mark() {
      const awsFrom = aws.calls.length;
      const cfFrom = cf.requests.length;
      return () => ({
        aws: aws.calls
          .slice(awsFrom)
          .filter((c) => c.mutating)
          .map((c) => c.action),
        cf: cf.requests
          .slice(cfFrom)
          .filter((r) => r.method !== 'GET')
          .map((r) => `${r.method} ${r.path}`),
      });
    },
    async instances(orgId, states = ['pending', 'running', 'stopping', 'stopped', 'shutting-down']) {
      const out = await check.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:OrgID', Values: [orgId] },
            { Name: 'instance-state-name', Values: states },
          ],
          MaxResults: 1000,
        }),
      );
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    },
    auditText() {
      return readDb((conn) => {
        const rows = [...conn.prepare('SELECT * FROM runs').all(), ...conn.prepare('SELECT * FROM tenant_resources').all()];
        return JSON.stringify(rows) + readFileSync(db).toString('latin1');
      });
    },
    auditRows() {
      return readDb(
        (conn) => conn.prepare('SELECT kind, resource_id, org_id, state, details FROM tenant_resources ORDER BY seq').all() as ReturnType<ApplyWorld['auditRows']>,
      );
    },
    runs() {
      return readDb((conn) => conn.prepare('SELECT status, exit_code, command FROM runs ORDER BY started_at').all() as ReturnType<ApplyWorld['runs']>);
    },
    async close() {
      await aws.close();
      await cf.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tagsOf(x: { Tags?: Array<{ Key?: string; Value?: string }> }): Record<string, string> {
  return Object.fromEntries((x.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}
