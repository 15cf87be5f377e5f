/**
 * moto finishes a ModifyVolume at once (state `completed`, progress 100) and accepts a smaller
 * size. AWS does not: a modification is `modifying`, then `optimizing` (the new size is usable
 * from then on), then `completed`; a volume can only grow; and a volume whose modification has not
 * completed cannot be modified again. The holds here show those states in ModifyVolume and
 * DescribeVolumesModifications responses, for N polls each or, in time mode, for a span of wall
 * time each (as instance-states.ts does for instances).
 */
import { DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { awsErrorReply, type ProxyReply } from './errors.js';
import type { AwsRequest } from './request.js';

export type ModificationState = 'modifying' | 'optimizing' | 'completed';

export interface ModificationPolls {
  /** DescribeVolumesModifications responses showing `modifying` (0 = straight to optimizing). */
  modifying: number;
  /** Then those showing `optimizing` (0 = straight to completed). */
  optimizing: number;
  /** When > 0, each of the two states lasts this many ms of wall time instead. */
  holdMs?: number;
}

interface Hold {
  modifying: number;
  optimizing: number;
  /** Time mode: when modifying ends and when optimizing ends. */
  modifyingUntil?: number;
  optimizingUntil?: number;
}

export class VolumeModificationHolds {
  private holds = new Map<string, Hold>();

  constructor(private readonly now: () => number = Date.now) {}

  stateOf(volumeId: string): ModificationState {
    const hold = this.holds.get(volumeId);
    if (!hold) return 'completed';
    if (hold.modifyingUntil !== undefined) {
      const t = this.now();
      return t < hold.modifyingUntil ? 'modifying' : t < hold.optimizingUntil! ? 'optimizing' : 'completed';
    }
    return hold.modifying > 0 ? 'modifying' : hold.optimizing > 0 ? 'optimizing' : 'completed';
  }

  /** One DescribeVolumesModifications response showed the volume. */
  private observe(volumeId: string): void {
    const hold = this.holds.get(volumeId);
    if (!hold || hold.modifyingUntil !== undefined) return;
    if (hold.modifying > 0) hold.modifying--;
    else if (hold.optimizing > 0) hold.optimizing--;
  }

  /**
   * AWS refuses a smaller size (moto shrinks the volume) and a new modification while one is under
   * way. Undefined lets the call through to moto.
   */
  async refusal(req: AwsRequest, ec2: EC2Client): Promise<ProxyReply | undefined> {
    const volumeId = req.form.get('VolumeId');
    if (!volumeId) return undefined;
    if (this.stateOf(volumeId) !== 'completed') {
      return awsErrorReply(req, 400, 'IncorrectModificationState', `Cannot modify volume ${volumeId} because it is already being modified.`);
    }
    const size = Number(req.form.get('Size') ?? NaN);
    if (!Number.isFinite(size)) return undefined;
    let current: number | undefined;
    try {
      current = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0]?.Size;
    } catch {
      return undefined;
    }
    if (current !== undefined && size < current) {
      return awsErrorReply(req, 400, 'InvalidParameterValue', `New size cannot be smaller than existing size (${current} GiB).`);
    }
    return undefined;
  }

  /** After moto accepted a ModifyVolume: hold the volume and answer `modifying`. */
  afterModify(req: AwsRequest, xml: string, polls: ModificationPolls): string {
    const volumeId = req.form.get('VolumeId');
    if (!volumeId) return xml;
    if (polls.holdMs !== undefined && polls.holdMs > 0) {
      const t = this.now();
      this.holds.set(volumeId, { modifying: 0, optimizing: 0, modifyingUntil: t + polls.holdMs, optimizingUntil: t + 2 * polls.holdMs });
    } else if (polls.modifying > 0 || polls.optimizing > 0) {
      this.holds.set(volumeId, { modifying: polls.modifying, optimizing: polls.optimizing });
    } else {
      return xml;
    }
    return withModificationState(xml, this.stateOf(volumeId));
  }

  /** Shows each held volume's state in a DescribeVolumesModifications response (each counts as one poll). */
  rewriteDescribe(xml: string): string {
    if (this.holds.size === 0) return xml;
    return xml.replace(/<item>((?:(?!<\/item>)[\s\S])*?<volumeId>([^<]+)<\/volumeId>[\s\S]*?)<\/item>/g, (whole, _inner: string, volumeId: string) => {
      if (!this.holds.has(volumeId) || !isLatest(xml, whole, volumeId)) return whole;
      const state = this.stateOf(volumeId);
      this.observe(volumeId);
      if (state === 'completed') this.holds.delete(volumeId);
      return withModificationState(whole, state);
    });
  }
}

/** Only a volume's last modification in the response is the one in progress. */
function isLatest(xml: string, item: string, volumeId: string): boolean {
  return xml.lastIndexOf(`<volumeId>${volumeId}</volumeId>`) === xml.indexOf(item) + item.indexOf(`<volumeId>${volumeId}</volumeId>`);
}

const progressOf: Record<ModificationState, number> = { modifying: 10, optimizing: 60, completed: 100 };

function withModificationState(xml: string, state: ModificationState): string {
  let out = xml
    .replace(/<modificationState>[^<]*<\/modificationState>/, `<modificationState>${state}</modificationState>`)
    .replace(/<progress>[^<]*<\/progress>/, `<progress>${progressOf[state]}</progress>`);
  if (state !== 'completed') out = out.replace(/<endTime>[^<]*<\/endTime>/, '');
  return out;
}
