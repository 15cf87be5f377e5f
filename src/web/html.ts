/**
 * The one escape function of the web view, and a tagged template built on it. Every
 * interpolated value is escaped unless it is already-rendered markup (an `Html` made by this
 * template), so a page cannot forget to escape: a tenant slug, a tag value or an error message
 * holding `<script>` is text, never markup. Attribute values are quoted with `"` by the pages and
 * `"` and `'` are escaped, so a value cannot leave its attribute either.
 */

/** Markup this module produced; the only thing `html` interpolates unescaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text to HTML text (and to a quoted attribute value). `undefined`/`null` render as ''. */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export type Interpolation = Html | string | number | boolean | undefined | null | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Interpolation[]).map(render).join('');
  return escapeHtml(v);
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** A path segment for an href: escaped for the URL, then (by `html`) for the attribute. */
export function pathSegment(value: string): string {
  return encodeURIComponent(value);
}
