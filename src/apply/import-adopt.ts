/**
 * `tenantform import --adopt`: the only writes an import makes — tags on what the control plane
 * made, the tunnel's name, the DNS record's comment, and a copy of the bootstrap bundle under the
 * contract's name. Nothing is created (but the bundle copy), replaced or deleted: the control
 * plane's bundle stays where its instances' boot scripts read it.
 *
 * Every step is idempotent, so a rerun after an interruption converges: tags are set (never
 * removed), the rename and the comment are compared first, and the copy is skipped when the
 * contract's bundle already holds exactly the same value (a copy with another value is refused,
 * never overwritten: the tenant's database password must never change). Values are never put in
 * an error, a log or the result.
 */
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { CreateSecretCommand, GetSecretValueCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws/clients.js';
import type { CloudflareContext } from '../cloudflare/client.js';
import { Tag, backupConfigTag, type BackupSettings } from '../contract.js';
import { CloudError, describeCause } from '../errors.js';
import { tagsToStamp } from './adopt-tags.js';
import { hasCode } from './cloud.js';
import { describeStep, type AdoptionStep } from '../import/steps.js';

export type { AdoptionStep } from '../import/steps.js';

export interface AdoptionTarget {
  aws: Pick<AwsClients, 'ec2' | 'secrets'>;
  cloudflare: CloudflareContext;
  /** Learns every bundle value before anything could quote it. */
  registerSecret: (value: string) => void;
}

export async function runAdoptionStep(t: AdoptionTarget, s: AdoptionStep): Promise<void> {
  const what = describeStep(s);
  try {
    switch (s.kind) {
      case 'tags':
        await t.aws.ec2.send(new CreateTagsCommand({ Resources: [s.id], Tags: toTags(s.tags) }));
        return;
      case 'secretTags':
        await t.aws.secrets.send(new TagResourceCommand({ SecretId: s.name, Tags: toTags(s.tags) }));
        return;
      case 'copyBundle':
        return await copyBundle(t, s);
      case 'renameTunnel':
        await t.cloudflare.client.zeroTrust.tunnels.cloudflared.edit(s.id, { account_id: t.cloudflare.accountId, name: s.to });
        return;
      case 'dnsComment':
        await t.cloudflare.client.dns.records.edit(s.id, {
          zone_id: t.cloudflare.zoneId,
          type: 'CNAME',
          name: s.name,
          content: s.content,
          proxied: s.proxied,
          // Automatic: what a proxied record has (an unproxied one fails the plan check first).
          ttl: 1,
          comment: s.comment,
        });
        return;
    }
  } catch (err) {
    if (err instanceof CloudError) throw err;
    throw new CloudError(describeCause(err), { operation: 'adopt', resource: what, cause: err });
  }
}

async function copyBundle(t: AdoptionTarget, s: Extract<AdoptionStep, { kind: 'copyBundle' }>): Promise<void> {
  const source = (await t.aws.secrets.send(new GetSecretValueCommand({ SecretId: s.from }))).SecretString;
  if (source === undefined) throw new CloudError('the bundle holds no string value', { operation: 'copy bootstrap bundle', resource: `secret ${s.from}` });
  registerValues(t, source);
  // What plan compares to see a backup settings change, from what the copied bundle holds.
  const tags = { ...s.tags, [Tag.backupConfig]: backupConfigTag(s.orgId, backupOf(source)) };
  if (s.existingTags === undefined) {
    try {
      await t.aws.secrets.send(
        new CreateSecretCommand({
          Name: s.to,
          Description: `tenantform bootstrap bundle for org ${s.orgId} (adopted from ${s.from})`,
          SecretString: source,
          Tags: toTags(tags),
        }),
      );
      return;
    } catch (err) {
      if (!hasCode(err, 'ResourceExistsException')) throw err;
    }
  }
  // An earlier, interrupted adoption made it (or its response was lost): the same value is ours.
  const existing = (await t.aws.secrets.send(new GetSecretValueCommand({ SecretId: s.to }))).SecretString;
  if (existing === undefined) throw new CloudError('the bundle holds no string value', { operation: 'copy bootstrap bundle', resource: `secret ${s.to}` });
  registerValues(t, existing);
  if (existing !== source) {
    throw new CloudError(`${s.to} already exists with other values than ${s.from}; it is left as it is (compare them by hand)`, {
      operation: 'copy bootstrap bundle',
      resource: `secret ${s.to}`,
    });
  }
  const stamp = tagsToStamp(tags, s.existingTags ?? {});
  if (Object.keys(stamp).length > 0) await t.aws.secrets.send(new TagResourceCommand({ SecretId: s.to, Tags: toTags(stamp) }));
}

function backupOf(text: string): BackupSettings {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    return { s3Prefix: str(v.TENANT_BACKUP_S3_PREFIX), reportUrl: str(v.TENANT_BACKUP_REPORT_URL) };
  } catch {
    return {};
  }
}

/** Keys whose values are secrets in the control plane's bundles and tenantform's (ORG_ID, ORG_SLUG, URLs are not). */
const SECRET_KEY = /PASSWORD|TOKEN|SECRET|KEY|REPORT_URL/i;

/** The whole text and every secret-named value inside it (identity values such as the slug would mangle output). */
function registerValues(t: AdoptionTarget, text: string): void {
  t.registerSecret(text);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && SECRET_KEY.test(k)) t.registerSecret(v);
    }
  } catch {
    // Not JSON: the whole text is registered.
  }
}

function toTags(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
