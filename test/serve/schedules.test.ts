import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadFleet } from '../../src/desired/load.js';
import { BASE_FILES, makeFleet, removeFleets } from '../desired/fleet-fixture.js';

afterAll(removeFleets);

const fleetWith = (extra: string) => ({ 'fleet.yaml': BASE_FILES['fleet.yaml'] + extra });
const baseLines = BASE_FILES['fleet.yaml']!.split('\n').length - 1;

describe('fleet.yaml schedules', () => {
  it('accepts five-field and six-field (seconds first) cron expressions, apply absent by default', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet(fleetWith('schedules:\n  plan: "*/15 * * * *"\n  drift: "0 */5 * * * *"\n')));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(state!.fleet.schedules).toEqual({ plan: '*/15 * * * *', drift: '0 */5 * * * *' });
    expect(state!.fleet.schedules!.apply).toBeUndefined();
  });

  it('leaves schedules out when fleet.yaml has none', async () => {
    const { state } = await loadFleet(makeFleet());
    expect(state!.fleet.schedules).toBeUndefined();
  });

  it('rejects an expression node-cron refuses, at its line in fleet.yaml', async () => {
    const { state, diagnostics } = await loadFleet(makeFleet(fleetWith('schedules:\n  plan: "*/15 * * * *"\n  drift: "61 * * * *"\n')));
    expect(state).toBeUndefined();
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'fleet.yaml', line: baseLines + 3, path: 'schedules.drift' });
    expect(errors[0]!.message).toContain('The drift schedule "61 * * * *" is not a valid cron expression');
    expect(errors[0]!.message).toContain('61 is a invalid expression for minute');
  });

  it('rejects the wrong number of fields, an unknown job and a non-string through the schema', async () => {
    const fields = await loadFleet(makeFleet(fleetWith('schedules:\n  sweep: "* * *"\n')));
    expect(fields.diagnostics.find((d) => d.severity === 'error')).toMatchObject({ line: baseLines + 2, path: 'schedules.sweep' });
    expect(fields.diagnostics.find((d) => d.severity === 'error')!.message).toContain('expected 5 or 6 fields but got 3');
    const unknown = await loadFleet(makeFleet(fleetWith('schedules:\n  deploy: "* * * * *"\n')));
    expect(unknown.state).toBeUndefined();
    expect(unknown.diagnostics.some((d) => d.severity === 'error' && d.line === baseLines + 2)).toBe(true);
    const number = await loadFleet(makeFleet(fleetWith('schedules:\n  apply: 5\n')));
    expect(number.state).toBeUndefined();
    expect(number.diagnostics.some((d) => d.severity === 'error' && d.line === baseLines + 2)).toBe(true);
  });

  it('makes `tenantform validate` exit 1 naming file:line', async () => {
    const dir = makeFleet(fleetWith('schedules:\n  apply: "0 0 32 * *"\n'));
    const io = memoryIo({ env: {}, cwd: dir });
    const code = await main(['validate', '--repo', dir], io);
    expect(code).toBe(1);
    expect(io.err.join('') + io.out.join('')).toContain(`fleet.yaml:${baseLines + 2}`);
  });
});
