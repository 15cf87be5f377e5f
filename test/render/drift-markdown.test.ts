import { describe, expect, it } from 'vitest';
import type { DriftFinding, DriftResult } from '../../src/drift/model.js';
import { renderDriftJson } from '../../src/render/drift-json.js';
import { renderDriftMarkdown } from '../../src/render/drift-markdown.js';
import { renderDriftText } from '../../src/render/drift-text.js';
import { GITHUB_COMMENT_LIMIT } from '../../src/render/plan-markdown.js';

const calls = { ec2: 3, secretsmanager: 1, ssm: 0, cloudflare: 2 };

function result(findings: DriftFinding[]): DriftResult {
  return {
    version: 1,
    environment: 'prod',
    observedAt: '2026-12-01T00:00:00.000Z',
    tenants: 10_000,
    findings,
    deep: { budget: 288, checked: ['a'], pending: ['b', 'c'], budgetTooSmall: false },
    calls: { list: calls, deep: { ...calls, ec2: 0 } },
    warnings: [],
  };
}

const finding = (i: number, severity: DriftFinding['severity']): DriftFinding => ({
  severity,
  code: severity === 'security' ? 'ruleOpenToWorld' : 'tag',
  resource: 'securityGroup',
  resourceId: `sg-${String(i).padStart(8, '0')}`,
  slug: `tenant-${i}`,
  orgId: `org-${i}`,
  actual: 'tcp/22 from 0.0.0.0/0',
  message: `ingress tcp/22 from 0.0.0.0/0 is open to the world <script>@everyone ${'x'.repeat(200)}`,
  repair: 'inPlace',
});

describe('drift renderers', () => {
  it('Markdown stays under the comment limit on a flood of findings, keeps security first and says what it cut', () => {
    const many = [...Array.from({ length: 3000 }, (_, i) => finding(i, 'drift')), ...Array.from({ length: 3000 }, (_, i) => finding(i, 'security'))];
    const r = result(many.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'security' ? -1 : 1)));
    const md = renderDriftMarkdown(r);
    expect(md.length).toBeLessThan(GITHUB_COMMENT_LIMIT);
    expect(md).toContain('[!CAUTION]');
    expect(md).toMatch(/lines? left out to stay within the comment limit/);
    expect(md).not.toContain('<script>');
    expect(md).not.toMatch(/@everyone/);
    expect(md).toContain('Deep-checked 1 of 10000 tenants');
  });

  it('text marks security findings and a clean result says so; JSON is versioned', () => {
    expect(renderDriftText(result([finding(1, 'security')]), { color: false })).toMatch(/SECURITY\n {2}! tenant-1 {2}securityGroup sg-00000001/);
    expect(renderDriftText(result([]), { color: false })).toContain('No drift in 10000 tenants.');
    expect(JSON.parse(renderDriftJson(result([])))).toMatchObject({ kind: 'drift', version: 1, findings: [] });
  });
});

describe('drift renderers after --fix', () => {
  it('list what was fixed, failed or left, and what the second look found', () => {
    const r: DriftResult = {
      ...result([finding(2, 'drift')]),
      fix: {
        runId: 'run-1',
        before: [finding(1, 'security'), finding(2, 'drift')],
        outcomes: [
          { slug: 'tenant-1', resource: 'securityGroup', resourceId: 'sg-1', codes: ['ruleOpenToWorld'], status: 'fixed', detail: 'rules set to the contract' },
          { slug: 'tenant-2', resource: 'instance', resourceId: 'i-2', codes: ['ami'], status: 'manual', detail: 'replace it' },
        ],
      },
    };
    const text = renderDriftText(r, { color: false });
    expect(text).toContain('Fix (run run-1): 2 findings before');
    expect(text).toContain('fixed: tenant-1 securityGroup sg-1 (ruleOpenToWorld): rules set to the contract');
    expect(text).toContain('manual: tenant-2 instance i-2 (ami): replace it');
    expect(text).toContain('left after the fix');
    expect(renderDriftMarkdown(r)).toContain('**Fix** (run run-1)');
  });
});
