/**
 * `npm run emulators` as an operator uses it (issue 8, item 20): an instance launched against it
 * reaches `running` by itself, observed only once, after the transition span, with no poll in
 * between — as on AWS — instead of staying `pending` until someone polls it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run emulators', () => {
  it('lets a launched instance reach running unpolled after the transition span', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/emulators.ts', '--transition-ms', '4000'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      let stdout = '';
      const env = await new Promise<Record<string, string>>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (!stdout.includes('export EC2_AMI=')) return;
          const vars = Object.fromEntries([...stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'|'$/g, '')]));
          if (vars.APP_DOMAIN !== undefined) resolve(vars);
        });
        child.once('exit', (code) => reject(new Error(`emulators exited ${code}: ${stdout}`)));
      });
      const ec2 = new EC2Client({ region: env.AWS_REGION!, endpoint: env.AWS_ENDPOINT_URL!, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      try {
        const run = await ec2.send(new RunInstancesCommand({ ImageId: env.EC2_AMI!, InstanceType: 't3.small', MinCount: 1, MaxCount: 1, SubnetId: env.EC2_SUBNET_ID! }));
        const id = run.Instances![0]!.InstanceId!;
        const state = async () => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;
        expect(await state()).toBe('pending');
        await new Promise((resolve) => setTimeout(resolve, 5000));
        expect(await state()).toBe('running');
      } finally {
        ec2.destroy();
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
