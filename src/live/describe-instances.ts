/**
 * The one paginated DescribeInstances, shared by the observers (src/live/ec2.ts) and the act
 * steps' look-ups (src/apply/instance-find.ts). Read-only: it takes the call to make, so each
 * side keeps its own client, budget and error wrapping. moto cuts pages at 100 reservations even
 * without MaxResults, so NextToken is always followed.
 */
import type { DescribeInstancesCommandInput, DescribeInstancesCommandOutput, Filter, Instance } from '@aws-sdk/client-ec2';

export const DESCRIBE_PAGE_SIZE = 1000;

export async function describeAllInstances(
  describe: (input: DescribeInstancesCommandInput) => Promise<DescribeInstancesCommandOutput>,
  filters: Filter[],
): Promise<Instance[]> {
  const found: Instance[] = [];
  let token: string | undefined;
  do {
    const out = await describe({ Filters: filters, MaxResults: DESCRIBE_PAGE_SIZE, NextToken: token });
    for (const r of out.Reservations ?? []) found.push(...(r.Instances ?? []));
    token = out.NextToken;
  } while (token);
  return found;
}
