/**
 * The read-only web view as a node:http request handler that serve mounts beside /healthz and
 * /metrics: it answers the paths it knows and resolves false for the rest, so the caller can
 * fall through to its own routes (and its 404). GET and HEAD only. The pages are pure functions
 * of their data; this module only reads the snapshot and the audit store, redacts and writes.
 *
 * Secrets: the data passes through the redactor twice — redactDeep (values under secret-looking
 * keys, e.g. in a run's summary) before rendering, and redact over the finished page (every
 * registered secret value, whatever field it hid in). Pass serve's redactor, the one its
 * environment's secrets are registered in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redactor } from '../redact.js';
import type { AuditStore, History } from '../store/model.js';
import { renderDrift } from './pages/drift.js';
import { renderFleet } from './pages/fleet.js';
import { renderNotFound } from './pages/not-found.js';
import { renderOrphans } from './pages/orphans.js';
import { renderRollout } from './pages/rollout.js';
import { renderRun, renderRuns } from './pages/runs.js';
import type { WebSnapshot } from './snapshot.js';

export interface WebViewDeps {
  store: AuditStore;
  snapshot: () => WebSnapshot;
  /** serve's redactor; a fresh one (secret-looking keys only) when absent. */
  redactor?: Redactor;
  /** How many runs and events a page reads from the store (newest first); 200 by default. */
  historyLimit?: number;
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const PAGES = new Set(['/', '/runs', '/drift', '/orphans', '/rollout']);

function routeOf(pathname: string): { page: string; runId?: string } | undefined {
  const p = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (PAGES.has(p)) return { page: p };
  const m = /^\/runs\/([^/]+)$/.exec(p);
  if (m) {
    try {
      return { page: '/runs/:id', runId: decodeURIComponent(m[1]!) };
    } catch {
      return { page: '/runs/:id', runId: m[1]! };
    }
  }
  return undefined;
}

export function createWebView(deps: WebViewDeps): WebHandler {
  const redactor = deps.redactor ?? new Redactor();
  const limit = deps.historyLimit ?? 200;

  const render = async (route: { page: string; runId?: string }): Promise<{ status: number; body: string }> => {
    const snap = redactor.redactDeep(deps.snapshot());
    const env = snap.environment;
    const at = snap.updatedAt;
    const history = async (): Promise<History> => redactor.redactDeep(await deps.store.history({ environment: env, limit }));
    switch (route.page) {
      case '/':
        return {
          status: 200,
          body: renderFleet({ environment: env, updatedAt: at, desired: snap.desired, inventory: snap.inventory, drift: snap.lastDrift, history: await history() }),
        };
      case '/runs':
        return { status: 200, body: renderRuns({ environment: env, updatedAt: at, runs: (await history()).runs }) };
      case '/drift':
        return { status: 200, body: renderDrift({ environment: env, updatedAt: at, drift: snap.lastDrift }) };
      case '/orphans':
        return { status: 200, body: renderOrphans({ environment: env, updatedAt: at, sweep: snap.lastSweep }) };
      case '/rollout':
        return { status: 200, body: renderRollout({ environment: env, updatedAt: at, rollout: snap.rollout, plan: snap.lastPlan, changeSet: snap.lastChangeSet }) };
      default: {
        const h = await history();
        const run = h.runs.find((r) => r.runId === route.runId);
        if (!run) return { status: 404, body: renderNotFound(env, `No run ${route.runId ?? ''} among the last ${limit} runs.`) };
        const events = h.resources.filter((e) => e.runId === run.runId);
        const changeSet = snap.lastChangeSet?.runId === run.runId ? snap.lastChangeSet : undefined;
        return { status: 200, body: renderRun({ environment: env, updatedAt: at, run, events, changeSet }) };
      }
    }
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routeOf(url.pathname);
    if (!route) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed: the web view is read-only\n');
      return true;
    }
    let status: number;
    let body: string;
    try {
      ({ status, body } = await render(route));
    } catch (e) {
      status = 500;
      body = `the web view could not read its data: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    const text = redactor.redact(body);
    res.writeHead(status, {
      'content-type': status === 500 ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    return true;
  };
}
