/**
 * Secrets Manager observer: bootstrap bundles under this environment's name prefix, including those
 * scheduled for deletion (a restorable bundle must be restored, not re-created). ListSecrets
 * returns metadata only; no secret value is ever read here.
 */
import type { Filter, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { MANAGED_BY, Tag, secretEnvPrefix } from '../contract.js';
import { CloudError, describeCause } from '../errors.js';
import { tagsToRecord } from './ec2.js';
import type { LiveSecret } from './model.js';
import type { SecretsReader } from './readers.js';

/** ListSecrets' maximum page size. */
const PAGE_SIZE = 100;
/** ListSecrets accepts at most 10 values per filter. */
const FILTER_VALUES_MAX = 10;

export interface SecretsScope {
  environment: string;
  slugs?: readonly string[];
}

function filterSets(scope: SecretsScope): Filter[][] {
  const base: Filter[] = [{ Key: 'name', Values: [secretEnvPrefix(scope.environment)] }];
  if (scope.slugs === undefined) return [base];
  const sets: Filter[][] = [];
  for (let i = 0; i < scope.slugs.length; i += FILTER_VALUES_MAX) {
    // tag-key and tag-value match independently (and by prefix); the exact OrgSlug is re-checked in memory.
    sets.push([...base, { Key: 'tag-key', Values: [Tag.orgSlug] }, { Key: 'tag-value', Values: scope.slugs.slice(i, i + FILTER_VALUES_MAX) }]);
  }
  return sets;
}

export async function observeSecrets(reader: SecretsReader, scope: SecretsScope): Promise<SecretListEntry[]> {
  const prefix = secretEnvPrefix(scope.environment);
  const wanted = scope.slugs === undefined ? undefined : new Set(scope.slugs);
  const out: SecretListEntry[] = [];
  try {
    for (const Filters of filterSets(scope)) {
      let NextToken: string | undefined;
      do {
        const page = await reader.listSecrets({ Filters, MaxResults: PAGE_SIZE, NextToken, IncludePlannedDeletion: true });
        for (const s of page.SecretList ?? []) {
          // The name filter is a prefix match on AWS; keep only exact-environment, tenantform-owned bundles.
          if (!s.Name?.startsWith(prefix)) continue;
          const tags = tagsToRecord(s.Tags);
          if (tags[Tag.managedBy] !== undefined && tags[Tag.managedBy] !== MANAGED_BY) continue;
          if (wanted && !wanted.has(tags[Tag.orgSlug] ?? '')) continue;
          out.push(s);
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
  } catch (err) {
    throw new CloudError(describeCause(err), { operation: 'list secrets', resource: `Secrets Manager ${prefix}*`, cause: err });
  }
  return out;
}

export function toLiveSecret(s: SecretListEntry): LiveSecret {
  return {
    arn: s.ARN ?? '',
    name: s.Name ?? '',
    deletedDate: s.DeletedDate?.toISOString(),
    tags: tagsToRecord(s.Tags),
  };
}
