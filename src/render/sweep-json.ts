/** `sweep --json`: the report as it is (formatVersion first), pretty for people. */
import type { SweepReport } from '../sweep/model.js';

export function renderSweepJson(report: SweepReport): string {
  const { formatVersion, ...rest } = report;
  return `${JSON.stringify({ formatVersion, ...rest }, null, 2)}\n`;
}
