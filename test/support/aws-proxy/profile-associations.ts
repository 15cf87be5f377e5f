/**
 * IAM instance profile associations, where moto differs from AWS (probed on moto 5.2.5):
 * ReplaceIamInstanceProfileAssociation swaps the profile on moto's association record but leaves
 * the instance's own profile, which DescribeInstances shows, on the old one
 * (`replace_iam_instance_profile_association` never calls `modify_instance_attribute`, as
 * associate and disassociate do), and it keeps the old association id. On AWS the instance shows
 * the new profile, and the replacement is a new association (the old one is disassociated).
 * So after moto's own answer (which validates the association id and the profile), the proxy
 * redoes the swap on moto as disassociate + associate, which updates both records, and answers
 * with the new association's id.
 */
import { AssociateIamInstanceProfileCommand, DisassociateIamInstanceProfileCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { ProxyReply } from './errors.js';

export async function completeProfileReplacement(reply: ProxyReply, ec2: EC2Client): Promise<ProxyReply> {
  const xml = reply.body.toString('utf8');
  const associationId = /<associationId>([^<]+)<\/associationId>/.exec(xml)?.[1];
  const instanceId = /<instanceId>([^<]+)<\/instanceId>/.exec(xml)?.[1];
  const profileArn = /<iamInstanceProfile>[\s\S]*?<arn>([^<]+)<\/arn>/.exec(xml)?.[1];
  if (!associationId || !instanceId || !profileArn) throw new Error(`cannot read moto's ReplaceIamInstanceProfileAssociation answer: ${xml.slice(0, 300)}`);
  await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: associationId }));
  const fresh = await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: profileArn } }));
  const newId = fresh.IamInstanceProfileAssociation?.AssociationId;
  if (!newId) throw new Error(`moto's AssociateIamInstanceProfile gave no association id for ${instanceId}`);
  return { ...reply, body: Buffer.from(xml.replace(`<associationId>${associationId}</associationId>`, `<associationId>${newId}</associationId>`)) };
}
