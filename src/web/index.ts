/** The read-only web view that `tenantform serve` mounts (src/web/handler.ts). */
export { createWebView, type WebHandler, type WebViewDeps } from './handler.js';
export { SnapshotHolder, type LiveWave, type RolloutProgress, type WebSnapshot } from './snapshot.js';
export { LiveRollout } from './live-rollout.js';
export { escapeHtml } from './html.js';
