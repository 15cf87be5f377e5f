/**
 * Secrets Manager observer: bootstrap bundles under this environment's name prefix, including those
 * scheduled for deletion (a restorable bundle must be restored, not re-created). ListSecrets
 * returns metadata only; no secret value is ever read here.
 */
import type { Filter, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { MANAGED_BY, Tag, secretEnvPrefix, secretName } from '../contract.js';
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
  /**
   * Org ids known for a scoped plan. A full plan finds bundles by name whatever their tags; a
   * scoped one finds them by OrgSlug tag, so a known org's bundle that the tags did not reveal
   * (made by hand, or by a run that crashed before tagging) is then looked up by its name.
   */
  orgIds?: readonly string[];
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
  const list = async (sets: Filter[][], keep: (s: SecretListEntry, tags: Record<string, string>) => boolean): Promise<void> => {
    for (const Filters of sets) {
      let NextToken: string | undefined;
      do {
        const page = await reader.listSecrets({ Filters, MaxResults: PAGE_SIZE, NextToken, IncludePlannedDeletion: true });
        for (const s of page.SecretList ?? []) {
          // The name filter is a prefix match on AWS; keep only exact-environment, tenantform-owned bundles.
          if (!s.Name?.startsWith(prefix)) continue;
          const tags = tagsToRecord(s.Tags);
          if (tags[Tag.managedBy] !== undefined && tags[Tag.managedBy] !== MANAGED_BY) continue;
          if (!keep(s, tags)) continue;
          if (!out.some((o) => o.ARN === s.ARN)) out.push(s);
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
  };
  try {
    await list(filterSets(scope), (_s, tags) => !wanted || wanted.has(tags[Tag.orgSlug] ?? ''));
    if (wanted) {
      // Only when the tags left a known org's bundle unseen: the usual pull request costs one call.
      const names = new Set((scope.orgIds ?? []).map((o) => secretName(scope.environment, o)).filter((n) => !out.some((s) => s.Name === n)));
      await list(nameFilterSets([...names].sort()), (s) => names.has(s.Name ?? ''));
    }
  } catch (err) {
    throw new CloudError(describeCause(err), { operation: 'list secrets', resource: `Secrets Manager ${prefix}*`, cause: err });
  }
  return out;
}

function nameFilterSets(names: readonly string[]): Filter[][] {
  const sets: Filter[][] = [];
  for (let i = 0; i < names.length; i += FILTER_VALUES_MAX) sets.push([{ Key: 'name', Values: names.slice(i, i + FILTER_VALUES_MAX) }]);
  return sets;
}

export function toLiveSecret(s: SecretListEntry): LiveSecret {
  return {
    arn: s.ARN ?? '',
    name: s.Name ?? '',
    deletedDate: s.DeletedDate?.toISOString(),
    tags: tagsToRecord(s.Tags),
  };
}
