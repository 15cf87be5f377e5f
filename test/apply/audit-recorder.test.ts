/**
 * Failed actions are filed under the resource kind of the operation that failed — read from the
 * error's structured operation, never guessed from its message (which carries slugs and ids).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/apply/audit-recorder.js';
import type { ActionResult } from '../../src/apply/changeset.js';
import type { AuditState } from '../../src/apply/context.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantform-audit-recorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ORG = '5f0c6a52-3b1e-4c8e-9a57-2d41e8a0b0aa';

function failure(slug: string, failedOperation: string | undefined, error: string): ActionResult {
  return {
    actionId: `create:tenant:${ORG}`,
    kind: 'create',
    target: { kind: 'tenant', orgId: ORG, slug },
    status: 'failed',
    error,
    ...(failedOperation ? { failedOperation } : {}),
    resources: [],
    durationMs: 1,
  };
}

describe('AuditRecorder.failure', () => {
  it.each([
    ['secret-labs', 'RunInstances', 'RunInstances instance tenantform-dev-secret-labs: InternalError', 'instance'],
    ['tunnel-co', 'CreateSecret', 'CreateSecret secret tenantform/dev/tenants/x/bootstrap: InternalError', 'secret'],
    ['dns-works', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupIngress security group sg-1: InternalError', 'securityGroup'],
    ['acme', 'update tunnel configuration', 'update tunnel configuration tunnel t-1: 400 1056', 'ingress'],
    ['acme', 'create DNS record', 'create DNS record acme.example.dev: 400', 'dnsRecord'],
    ['acme', 'delete tunnel', 'delete tunnel t-1: 500', 'tunnel'],
    ['security-first', undefined, 'apply redeploy security-first: SSM command Failed', 'instance'],
  ])('slug %s failing in %s is filed as its operation’s kind', async (slug, operation, error, kind) => {
    const store = openSqliteStore(join(dir, `${slug}-${operation ?? 'none'}.db`));
    try {
      const recorder = new AuditRecorder({ store, runId: 'run-1', environment: 'dev', gitCommit: undefined, slugOf: () => slug });
      recorder.failure(failure(slug, operation, error));
      expect(await recorder.flush()).toEqual([]);
      const { resources } = await store.history({ slug });
      expect(resources.map((r) => [r.kind, r.state])).toEqual([[kind, 'failed']]);
    } finally {
      await store.close();
    }
  });
});

describe('AuditRecorder.event', () => {
  it('files each act outcome by its typed state: created only for what the run made, adopted for what it found', async () => {
    const store = openSqliteStore(join(dir, 'states.db'));
    try {
      const recorder = new AuditRecorder({ store, runId: 'run-1', environment: 'dev', gitCommit: undefined, slugOf: () => 'acme' });
      const cases: Array<[AuditState, string]> = [
        ['created', 'created'],
        ['adopted', 'adopted'],
        ['restored', 'adopted'],
        ['updated', 'updated'],
        ['started', 'updated'],
        ['stopped', 'updated'],
        ['resized', 'updated'],
        ['deleted', 'deleted'],
        ['absent', 'deleted'],
        ['rolledBack', 'deleted'],
        ['failed', 'failed'],
      ];
      for (const [state] of cases) recorder.event({ kind: 'tunnel', resourceId: `t-${state}`, orgId: ORG, state, details: { name: 'x' } });
      recorder.event({ kind: 'command', resourceId: 'cmd-1', orgId: ORG, state: 'succeeded', details: { instanceId: 'i-1' } });
      recorder.event({ kind: 'command', resourceId: 'cmd-2', orgId: ORG, state: 'failed', details: { instanceId: 'i-1' } });
      expect(await recorder.flush()).toEqual([]);
      const { resources } = await store.history({ slug: 'acme' });
      const byId = new Map(resources.map((r) => [r.resourceId + (r.kind === 'instance' ? `/${(r.details as { commandId: string }).commandId}` : ''), r]));
      for (const [state, stored] of cases) {
        expect([state, byId.get(`t-${state}`)?.state]).toEqual([state, stored]);
        expect((byId.get(`t-${state}`)?.details as { event: string }).event).toBe(state);
      }
      expect(byId.get('i-1/cmd-1')?.state).toBe('updated');
      expect(byId.get('i-1/cmd-2')?.state).toBe('failed');
      // What a later sweep relies on: adopted and updated resources stay claimed, deleted ones do not.
      expect((await store.claims('dev')).map((c) => c.resourceId).sort()).toEqual([
        'i-1',
        't-adopted',
        't-created',
        't-resized',
        't-restored',
        't-started',
        't-stopped',
        't-updated',
      ]);
    } finally {
      await store.close();
    }
  });
});
