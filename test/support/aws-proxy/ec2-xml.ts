/**
 * Just enough XML surgery on moto's EC2 responses to rewrite instance states and drop instances:
 * moto's output is regular (no attributes on `item`, no CDATA), so a depth-counting scan of
 * `<item>` elements is reliable without a full parser.
 */

export interface Span {
  start: number;
  end: number;
}

/** The `<item>…</item>` elements directly inside the first `<tag>…</tag>` at or after `from`. */
export function childItems(xml: string, tag: string, from = 0, until = xml.length): { container: Span; items: Span[] } | undefined {
  const open = xml.indexOf(`<${tag}>`, from);
  if (open < 0 || open >= until) return undefined;
  const contentStart = open + tag.length + 2;
  const items: Span[] = [];
  let depth = 0;
  let itemStart = -1;
  const tagPattern = /<(\/?)([A-Za-z0-9_]+)(\/?)>/g;
  tagPattern.lastIndex = contentStart;
  for (let m = tagPattern.exec(xml); m; m = tagPattern.exec(xml)) {
    const [whole, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing && name === tag && depth === 0) return { container: { start: open, end: m.index + whole.length }, items };
    if (name !== 'item') continue;
    if (!closing) {
      if (depth === 0) itemStart = m.index;
      depth++;
    } else {
      depth--;
      if (depth === 0) items.push({ start: itemStart, end: m.index + whole.length });
    }
  }
  return undefined;
}

export interface InstanceItem {
  span: Span;
  instanceId: string;
  state: string;
}

/** Every instance in a DescribeInstances response, grouped by reservation. */
export function reservationInstances(xml: string): Array<{ span: Span; instances: InstanceItem[] }> {
  const reservations = childItems(xml, 'reservationSet');
  if (!reservations) return [];
  return reservations.items.map((reservation) => {
    const set = childItems(xml, 'instancesSet', reservation.start, reservation.end);
    const instances = (set?.items ?? []).map((span) => {
      const text = xml.slice(span.start, span.end);
      return {
        span,
        instanceId: /<instanceId>([^<]+)<\/instanceId>/.exec(text)?.[1] ?? '',
        state: /<instanceState><code>\d+<\/code><name>([^<]+)<\/name><\/instanceState>/.exec(text)?.[1] ?? '',
      };
    });
    return { span: reservation, instances };
  });
}

export const stateCodes: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export function withInstanceState(itemXml: string, state: string): string {
  return itemXml.replace(
    /<instanceState><code>\d+<\/code><name>[^<]+<\/name><\/instanceState>/,
    `<instanceState><code>${stateCodes[state]}</code><name>${state}</name></instanceState>`,
  );
}

/** Instance ids with their previous state, from a Run/Start/Stop/TerminateInstances response. */
export function changedInstances(xml: string): Array<{ instanceId: string; previousState: string | undefined }> {
  const set = childItems(xml, 'instancesSet');
  return (set?.items ?? []).map((span) => {
    const text = xml.slice(span.start, span.end);
    return {
      instanceId: /<instanceId>([^<]+)<\/instanceId>/.exec(text)?.[1] ?? '',
      previousState: /<previousState><code>\d+<\/code><name>([^<]+)<\/name><\/previousState>/.exec(text)?.[1],
    };
  });
}

/** Rewrites each item of a Stop/TerminateInstances response's `currentState`. */
export function withCurrentStates(xml: string, stateOf: (instanceId: string, current: string) => string): string {
  return xml.replace(/(<instanceId>([^<]+)<\/instanceId><currentState>)<code>\d+<\/code><name>([^<]+)<\/name>/g, (_whole, head: string, id: string, current: string) => {
    const state = stateOf(id, current);
    return `${head}<code>${stateCodes[state]}</code><name>${state}</name>`;
  });
}
