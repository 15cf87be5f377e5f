/**
 * serve's drift job carries drift's informational notes to the web view: the example fleet
 * applied to the emulators, acme's root volume grown past its declaration from outside (a note,
 * kept by rule), the drift job fired, then /drift read over HTTP as an operator would: the note
 * in its own table, the findings counts (page and metrics) untouched by it.
 */
import { DescribeVolumesCommand, ModifyVolumeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG, tagsOf } from '../cli/apply-world.js';
import { parseMetrics, startServeWorld, type ServeWorld } from './serve-world.js';

const TOKEN = `serve-token-${Math.random().toString(36).slice(2)}`;
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
let w: ServeWorld;

beforeAll(async () => {
  w = await startServeWorld({ schedules: 'schedules:\n  drift: "0 * * * *"\n', env: { TENANTFORM_SERVE_TOKEN: TOKEN } });
  expect((await w.world.run(['apply', '--auto-approve'])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  expect(await w.stop()).toBe(0);
});

describe("serve's drift job and the /drift page", () => {
  it('shows a larger root volume as a note apart from the findings, and counts it in no findings count', async () => {
    const acme = (await w.world.instances(ORG.acme)).find((i) => tagsOf(i).Role === 'tenant')!;
    const volumes = await w.world.check.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [acme.InstanceId!] }] }));
    await w.world.check.ec2.send(new ModifyVolumeCommand({ VolumeId: volumes.Volumes![0]!.VolumeId!, Size: 40 }));

    await w.serve.fire('drift');
    expect(w.serve.last.drift).toMatchObject({ result: 'ok' });
    expect(w.serve.last.drift!.drift!.findings).toEqual([]);

    const res = await fetch(`${w.url}/drift`, auth);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('No drift: everything matches');
    expect(page).toContain('0 findings');
    expect(page).toContain('1 note<');
    const notes = page.slice(page.indexOf('<h2>Notes (kept by rule, nothing to fix)</h2>'));
    expect(notes).toContain('<code>volumeLarger</code>');
    expect(notes).toContain(`<code>${acme.InstanceId}</code>`);
    expect(notes).toContain('<code>30 GB</code>');
    expect(notes).toContain('<code>40 GB</code>');
    expect(notes).toContain('declare 40 GB to match');

    const metrics = parseMetrics(await (await fetch(`${w.url}/metrics`, auth)).text());
    const findings = [...metrics].filter(([k]) => k.startsWith('tenantform_drift_findings'));
    expect(findings.every(([, v]) => v === 0)).toBe(true);
  }, 120_000);
});
