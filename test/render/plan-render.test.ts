import { describe, expect, it } from 'vitest';
import { Tag } from '../../src/contract.js';
import { canonicalPlan } from '../../src/plan/canonical.js';
import { planChanges } from '../../src/plan/diff.js';
import type { Plan } from '../../src/plan/model.js';
import { renderPlanJson } from '../../src/render/plan-json.js';
import { GITHUB_COMMENT_LIMIT, md, renderPlanMarkdown } from '../../src/render/plan-markdown.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { NOW, desiredState, inventoryFor, inventoryOf, liveTenantFor, fleetSpec, tenant, workspace } from '../plan/fixtures.js';

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;]*m/g;

/** A plan with one action of every kind, a replacement, a blocked delete and a warning. */
function mixedPlan(): Plan {
  const d = desiredState([
    tenant('acme', { workspaces: [workspace('alpha')] }),
    tenant('bolt', { power: 'stopped' }),
    tenant('core', { instanceType: 't3.large' }),
    tenant('dune'),
    tenant('echo', { deletionProtection: true }),
    tenant('fern'),
    tenant('gold'),
    tenant('hull'),
  ]);
  const inv = inventoryFor(
    desiredState([
      tenant('acme'),
      tenant('bolt'),
      tenant('core'),
      tenant('dune'),
      tenant('echo'),
      tenant('fern'),
      tenant('gold'),
      tenant('hull'),
      tenant('zulu', { deletionProtection: true }),
    ]),
  );
  inv.tenants['org-dune']!.instances[0]!.tags[Tag.image] = 'old';
  inv.tenants['org-fern']!.dnsRecords = [];
  inv.tenants['org-gold']!.instances[0]!.state = 'stopped';
  inv.tenants['org-hull']!.instances[0]!.imageId = 'ami-0old';
  inv.tenants['org-hull']!.instances.push({ ...inv.tenants['org-hull']!.instances[0]!, instanceId: 'i-dup', launchTime: '2025-03-01T00:00:00Z' });
  // An older AMI alone replaces nothing (issue 8): hull's replacement is asked for.
  return planChanges(d, inv, { now: NOW, replace: ['hull'] });
}

describe('text renderer', () => {
  const plan = mixedPlan();

  it('shows every action with its symbol, target, reason and steps, then guards and the summary', () => {
    const text = renderPlanText(plan, { color: false });
    expect(text).not.toMatch(ANSI_RE);
    expect(text).toContain('  + create           workspace alpha [ws-alpha] of acme (org org-acme)');
    expect(text).toContain('  ~ start            tenant gold (org org-gold)');
    expect(text).toContain('  ~ redeploy         tenant dune (org org-dune) (wave 1)');
    expect(text).toContain('  ± replace (delete) tenant hull (org org-hull)');
    expect(text).toContain('  ± replace (create) tenant hull (org org-hull)');
    expect(text).toContain('  - delete           tenant zulu (org org-zulu) [blocked: deletionProtection]');
    expect(text).toContain('      instanceType: t3.small → t3.large');
    expect(text).toContain('      steps: dnsRecord create → ingress create tun-org-fern');
    expect(text).toMatch(
      / {6}cascade: instance delete i-t-org-zulu → securityGroup delete sg-t-org-zulu → secret delete .* → dnsRecord delete dns-org-zulu → tunnel delete tun-org-zulu\n/,
    );
    expect(text).toContain('  ✖ refused deletionProtection:');
    expect(text).toContain('  ! warning duplicateLive: tenant hull (org org-hull) has 2 live instances');
    expect(text).toContain('Plan: 2 to create, 1 to repair, 1 to update, 1 to redeploy, 1 to resize, 1 to stop, 1 to start, 2 to delete. Refused by a guard');
  });

  it('colours only when asked, and the words are the same either way', () => {
    const coloured = renderPlanText(plan, { color: true });
    expect(coloured).toMatch(ANSI_RE);
    expect(coloured).toContain('\u001b[31m- delete');
    expect(coloured).toContain('\u001b[32m+ create');
    expect(coloured.replace(ANSI_RE, '')).toBe(renderPlanText(plan, { color: false }));
  });

  it('says an image change and a power change once each, with no one-sided attribute', () => {
    const text = renderPlanText(plan, { color: false });
    expect(text.match(/old → ghcr\.io\/acme\/platform:1\.0\.0/g)).toHaveLength(1);
    expect(text).toContain('      image: old → ghcr.io/acme/platform:1.0.0');
    expect(text).toContain('      power: running → stopped');
    expect(text).not.toMatch(/→ \(none\)/);
    expect(text).not.toMatch(/state: /);
  });

  it('counts the tenants a scoped plan covers, not their org ids and slugs together', () => {
    const d = desiredState([tenant('acme'), tenant('bolt')]);
    const scoped = planChanges(d, { ...inventoryFor(d), scope: { kind: 'tenants', orgIds: ['org-acme'], slugs: ['acme'] } }, { now: NOW });
    expect(renderPlanText(scoped, { color: false }).split('\n')[0]).toBe('tenantform plan · environment dev · commit 0123456789ab · scoped to 1 tenant (acme)');
    expect(renderPlanMarkdown(scoped)).toContain('Scoped to 1 tenant (acme); tenants outside the scope were not compared.');
    expect(scoped.guards.find((g) => g.guard === 'scope')!.message).toMatch(/^plan limited to 1 tenant \(acme\);/);
  });

  it('says so when there is nothing to do', () => {
    const d = desiredState([tenant('acme')]);
    const text = renderPlanText(planChanges(d, inventoryFor(d), { now: NOW }), { color: false });
    expect(text).toContain('No changes: the live fleet matches the fleet repository.');
    expect(text).toContain('Plan: no changes. Nothing to do (exit 0).');
  });

  it('neutralises control characters from live tags (no terminal escapes from the cloud)', () => {
    const evil = liveTenantFor(tenant('evil'), fleetSpec());
    evil.slug = 'evil\u001b[2J\u001b]0;pwned\u0007';
    const text = renderPlanText(planChanges(desiredState([tenant('acme')]), inventoryOf([evil]), { now: NOW }), { color: false });
    // eslint-disable-next-line no-control-regex -- the assertion is about control characters
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).toContain('tenant evil\ufffd[2J\ufffd]0;pwned\ufffd (org org-evil)');
  });
});

describe('markdown renderer', () => {
  it('puts the summary table first, then every delete in a CAUTION block, then guards, then details', () => {
    const out = renderPlanMarkdown(mixedPlan());
    const table = out.indexOf('| Action | Count |');
    const caution = out.indexOf('> [!CAUTION]');
    const warning = out.indexOf('> [!WARNING]');
    const note = out.indexOf('> [!NOTE]');
    const details = out.indexOf('<details><summary>Details of 10 actions</summary>');
    expect([table, caution, warning, note, details].every((i) => i > 0)).toBe(true);
    expect(table < caution && caution < warning && warning < note && note < details).toBe(true);
    expect(out).toContain('| **delete** | **2** |');
    expect(out).toContain('> - **tenant zulu (org org-zulu)**: 1 instance, 1 security group, 1 secret bundle, 1 DNS record, 1 tunnel — ⛔ blocked by deletionProtection');
    expect(out).toContain('> - **tenant hull (org org-hull)**: instance replaced');
    expect(out).toContain('**10 changes** · **2 deletes** · Refused by a guard');
    expect(out.trimEnd().endsWith('</details>')).toBe(true);
    expect(out).not.toContain('_Cut to stay under');
  });

  it('escapes Markdown, HTML and mentions in names', () => {
    expect(md('<script>alert(1)</script> | *x* @team [a](b) `c`\nnext')).toBe('&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*x\\* @\u200bteam \\[a\\](b) \\`c\\` next');
    const evil = liveTenantFor(tenant('evil'), fleetSpec());
    evil.slug = '<img src=x onerror=alert(1)>|@admins';
    const out = renderPlanMarkdown(planChanges(desiredState([tenant('acme')]), inventoryOf([evil]), { now: NOW }));
    expect(out).not.toContain('<img');
    expect(out).not.toContain('@admins');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;\\|@\u200badmins');
  });

  it('stays under the GitHub limit with 10,000 creates and says what was cut', () => {
    const d = desiredState(Array.from({ length: 10_000 }, (_, i) => tenant(`t${String(i).padStart(5, '0')}`)));
    const plan = planChanges(d, inventoryOf([]), { now: NOW });
    expect(plan.actions).toHaveLength(10_000);
    const out = renderPlanMarkdown(plan);
    expect(out.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(out.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 5_000);
    expect(out).toMatch(/_Cut to stay under GitHub's 65,536-character comment limit: details of \d+ of 10000 actions\. Run/);
    expect(out).toContain('| create | 10000 |');
    expect(out.trimEnd().endsWith('_')).toBe(true);
    expect(out).toContain('</details>');
  });

  it('stays under the limit with 10,000 deletes, listing as many as fit and counting the rest', () => {
    const live = inventoryOf(Array.from({ length: 10_000 }, (_, i) => liveTenantFor(tenant(`gone${String(i).padStart(5, '0')}`), fleetSpec())));
    const plan = planChanges(desiredState([tenant('keep')]), live, { now: NOW });
    const out = renderPlanMarkdown(plan);
    expect(out.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(out).toContain('> [!CAUTION]');
    expect(out).toContain('> **10000 deletes**: live resources will be removed.');
    expect(out).toMatch(/> - \*\*…and \d+ more deletes not listed \(comment size limit\)/);
    expect(out).toContain('> - **maxDeletes**: 10000 tenant deletes exceed guards.maxDeletes (3)');
    expect(out).toMatch(/_Cut to stay under .*: \d+ of 10000 deletes not listed; details of \d+ of 10001 actions/);
  });

  it('honours a smaller maxLength', () => {
    const out = renderPlanMarkdown(mixedPlan(), { maxLength: 3_000 });
    expect(out.length).toBeLessThanOrEqual(3_000);
    expect(out).toContain('> [!CAUTION]');
  });
});

describe('json renderer', () => {
  it('is the canonical form, pretty or compact, and stable across a round trip', () => {
    const plan = mixedPlan();
    const pretty = renderPlanJson(plan, { pretty: true });
    const compact = renderPlanJson(plan, { pretty: false });
    expect(JSON.parse(pretty)).toEqual(JSON.parse(compact));
    expect(compact.trimEnd()).not.toContain('\n');
    expect(pretty.startsWith('{\n  "formatVersion": 3,\n  "environment": "dev",')).toBe(true);
    const reordered = JSON.parse(pretty) as Plan;
    const shuffled = {
      actions: reordered.actions,
      guards: reordered.guards,
      summary: reordered.summary,
      basis: reordered.basis,
      settings: reordered.settings,
      createdAt: reordered.createdAt,
      environment: reordered.environment,
      formatVersion: reordered.formatVersion,
    } as Plan;
    expect(renderPlanJson(shuffled, { pretty: true })).toBe(pretty);
    expect(JSON.parse(pretty)).toEqual(JSON.parse(JSON.stringify(canonicalPlan(plan))));
  });
});

describe('no secrets in any render', () => {
  const FAKE = ['ghp_FAKEfakeFAKEfake0123456789abcdefABCD', 'hunter2-db-password-value', 'cfat_tunnel_token_value_xyz'];

  function leakyPlan(): Plan {
    const d = desiredState([tenant('acme', { workspaces: [workspace('alpha')] })]);
    const inv = inventoryFor(desiredState([tenant('acme', { workspaces: [workspace('alpha')] }), tenant('gone')]));
    const acme = inv.tenants['org-acme']!;
    const gone = inv.tenants['org-gone']!;
    for (const t of [acme, gone]) {
      t.instances[0]!.tags['GHCR_PULL_TOKEN'] = FAKE[0]!;
      t.instances[0]!.tags['AdminPassword'] = FAKE[1]!;
      t.securityGroups[0]!.tags['TunnelToken'] = FAKE[2]!;
      t.secrets[0]!.tags['SecretValue'] = FAKE[1]!;
    }
    acme.instances[0]!.instanceType = 't3.micro';
    acme.dnsRecords[0]!.comment = `tenantform env=dev org=org-acme slug=acme token=${FAKE[2]}`;
    inv.unattributed.push({ service: 'secretsmanager', kind: 'secret', id: 'arn:stray', name: `stray-${FAKE[0]}`, reason: `value ${FAKE[1]}` });
    return planChanges(d, inv, { now: NOW });
  }

  it('carries no secret values and no secret-named fields in text, markdown or JSON', () => {
    const plan = leakyPlan();
    expect(plan.actions.map((a) => a.id)).toEqual(['resize:tenant:org-acme', 'delete:tenant:org-gone']);
    const renders = [
      renderPlanText(plan, { color: true }),
      renderPlanText(plan, { color: false }),
      renderPlanMarkdown(plan),
      renderPlanJson(plan, { pretty: true }),
      renderPlanJson(plan, { pretty: false }),
    ];
    for (const out of renders) for (const secret of FAKE) expect(out).not.toContain(secret);
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          if (k !== 'fingerprints') walk(x);
        }
      }
    };
    walk(JSON.parse(renders[3]!));
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.filter((k) => /token|password|passwd|passphrase|secretvalue|secretstring|apikey|privatekey|credential/i.test(k))).toEqual([]);
  });
});

describe('notices', () => {
  it('text and Markdown show the older-AMI notice, and it changes nothing', () => {
    const d = desiredState([tenant('acme')]);
    const inv = inventoryFor(d);
    inv.tenants['org-acme']!.instances[0]!.imageId = 'ami-0old';
    const plan = planChanges(d, inv, { now: NOW });
    const text = renderPlanText(plan, { color: false });
    expect(text).toContain('Notices:\n  i 1 instance runs an older AMI than declared (acme)');
    expect(text).toContain('Nothing to do (exit 0).');
    expect(renderPlanMarkdown(plan)).toContain('> 1 instance runs an older AMI than declared (acme)');
  });
});
