/**
 * The frame every page shares: title, navigation, a little inline CSS, no script. Pure: a page
 * is a function of its data returning a string. A page that follows something running (the
 * rollout) asks for `refreshSeconds`: a meta refresh, the one way to stay current without script.
 */
import { Html, html, type Interpolation } from '../html.js';

export const NAV: ReadonlyArray<{ href: string; label: string }> = [
  { href: '/', label: 'Fleet' },
  { href: '/runs', label: 'Runs' },
  { href: '/drift', label: 'Drift' },
  { href: '/orphans', label: 'Orphans' },
  { href: '/rollout', label: 'Rollout' },
];

const CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:baseline}
nav{display:flex;gap:1rem}header a{color:#cfd8ea;text-decoration:none}header a.here{color:#fff;font-weight:600}
main{padding:1rem 1.2rem}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;background:#fff;margin-bottom:1rem}th,td{border:1px solid #d9dde5;padding:.3rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
caption{text-align:left;padding:.2rem 0}th{background:#eceff4}td.ws{padding-left:1.6rem}.muted{color:#6b7385}
.b{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.8rem;background:#e3e7ee}
.b.ok{background:#d5f0dc}.b.bad{background:#f8d4d4}.b.warn{background:#fbecc8}
code{font-size:.85rem}`;

export interface PageInput {
  title: string;
  environment: string;
  /** The nav entry to highlight. */
  path: string;
  updatedAt: string | undefined;
  body: Interpolation;
  /** Reload the page every this many seconds (while what it shows is still changing). */
  refreshSeconds?: number | undefined;
}

export function layout(p: PageInput): string {
  const nav = NAV.map((n) => html`<a href="${n.href}"${p.path === n.href ? html` class="here"` : ''}>${n.label}</a>`);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${p.title} · tenantform ${p.environment}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${p.refreshSeconds ? html`<meta http-equiv="refresh" content="${p.refreshSeconds}">` : ''}<style>${new Html(CSS)}</style></head>
<body><header><strong>tenantform · ${p.environment}</strong><nav>${nav}</nav>
<span class="muted">${p.updatedAt ? html`updated ${p.updatedAt}` : ''}</span></header>
<main><h1>${p.title}</h1>
${p.body}
</main></body></html>
`.text;
}

/** A badge: `ok` green, `bad` red, `warn` amber, anything else grey. */
export function badge(text: string, tone: 'ok' | 'bad' | 'warn' | 'none' = 'none'): Html {
  return html`<span class="b ${tone}">${text}</span>`;
}

export function empty(text: string): Html {
  return html`<p class="muted">${text}</p>`;
}
