/**
 * moto moves instances between states instantly. AWS does not: after RunInstances/StartInstances
 * an instance is `pending` for a while, after StopInstances `stopping`, after TerminateInstances
 * `shutting-down`. A hold shows the transitional state, then lets moto's real (settled) state
 * through. Two ways to end a hold:
 * - by wall time (`holdMs` > 0): the state settles that long after the call, polled or not, as on
 *   AWS, so an operator's `aws ec2 describe-instances` sees instances reach running by themselves;
 * - by polls (`holdMs` 0): the next N DescribeInstances responses that include the instance show
 *   it, whatever the time; tests with virtual clocks count on that.
 */
import { changedInstances, reservationInstances, withCurrentStates, withInstanceState } from './ec2-xml.js';
import { formFilters } from './request.js';

export type TransitionalState = 'pending' | 'stopping' | 'shutting-down';

const settlesTo: Record<TransitionalState, string> = { pending: 'running', stopping: 'stopped', 'shutting-down': 'terminated' };

export interface TransitionPolls {
  pending: number;
  stopping: number;
  shuttingDown: number;
  /** When > 0, every hold lasts this many milliseconds of wall time and the poll counts are ignored. */
  holdMs?: number;
}

interface Hold {
  state: TransitionalState;
  /** Poll mode: observations left. */
  remaining: number;
  /** Time mode: epoch ms when the state settles. */
  until?: number;
}

export class InstanceStateHolds {
  private holds = new Map<string, Hold>();

  constructor(private readonly now: () => number = Date.now) {}

  get active(): boolean {
    return this.holds.size > 0;
  }

  /** The transitional state an instance that moto reports as `actual` is held in, if any. */
  heldState(instanceId: string, actual: string): TransitionalState | undefined {
    const hold = this.holds.get(instanceId);
    if (!hold) return undefined;
    if (hold.until !== undefined && this.now() >= hold.until) {
      this.holds.delete(instanceId);
      return undefined;
    }
    if (settlesTo[hold.state] !== actual) {
      // Something else moved the instance on (e.g. terminated while pending): the hold is moot.
      this.holds.delete(instanceId);
      return undefined;
    }
    return hold.state;
  }

  /** One observation of a held instance has happened. */
  consume(instanceId: string): void {
    const hold = this.holds.get(instanceId);
    if (!hold || hold.until !== undefined) return;
    hold.remaining--;
    if (hold.remaining <= 0) this.holds.delete(instanceId);
  }

  /** Start holds after a successful Run/Start/Stop/TerminateInstances response. */
  afterStateChange(action: string, responseXml: string, polls: TransitionPolls): string {
    const transition: Record<string, [TransitionalState, number]> = {
      RunInstances: ['pending', polls.pending],
      StartInstances: ['pending', polls.pending],
      StopInstances: ['stopping', polls.stopping],
      TerminateInstances: ['shutting-down', polls.shuttingDown],
    };
    const entry = transition[action];
    if (!entry) return responseXml;
    const [state, count] = entry;
    const target = settlesTo[state];
    for (const { instanceId, previousState } of changedInstances(responseXml)) {
      // Stopping a stopped instance or terminating a terminated one is not a transition.
      if (previousState === target) continue;
      if (polls.holdMs !== undefined && polls.holdMs > 0) this.holds.set(instanceId, { state, remaining: 0, until: this.now() + polls.holdMs });
      else if (count > 0) this.holds.set(instanceId, { state, remaining: count });
    }
    if (action !== 'StopInstances' && action !== 'TerminateInstances') return responseXml;
    // moto answers "stopping"/"shutting-down" even when the instance already was stopped/terminated.
    const previous = new Map(changedInstances(responseXml).map((i) => [i.instanceId, i.previousState]));
    return withCurrentStates(responseXml, (id, current) => (previous.get(id) === target ? target : current));
  }

  /**
   * A DescribeInstances request filtered by `instance-state-name` must also fetch instances whose
   * displayed state differs from moto's. Returns the widened form body and the values asked for.
   */
  widenStateFilter(form: URLSearchParams): { form: URLSearchParams; requested: string[] } | undefined {
    if (!this.active) return undefined;
    const filter = formFilters(form).find((f) => f.name === 'instance-state-name');
    if (!filter) return undefined;
    const widened = new URLSearchParams(form);
    const extra = filter.values
      .filter((v): v is TransitionalState => v in settlesTo)
      .map((v) => settlesTo[v])
      .filter((v) => !filter.values.includes(v));
    [...new Set(extra)].forEach((value, i) => widened.set(`Filter.${filter.index}.Value.${filter.values.length + i + 1}`, value));
    return { form: widened, requested: filter.values };
  }

  /** Shows held states in a DescribeInstances response, dropping instances the state filter excludes. */
  rewriteDescribeInstances(xml: string, requestedStates: string[] | undefined): string {
    if (!this.active && !requestedStates) return xml;
    let out = xml;
    for (const reservation of reservationInstances(xml).reverse()) {
      const shown = reservation.instances.map((instance) => {
        const held = this.heldState(instance.instanceId, instance.state);
        const state = held ?? instance.state;
        return { instance, state, held, keep: !requestedStates || requestedStates.includes(state) };
      });
      for (const s of shown) if (s.keep && s.held) this.consume(s.instance.instanceId);
      if (reservation.instances.length > 0 && shown.every((s) => !s.keep)) {
        out = out.slice(0, reservation.span.start) + out.slice(reservation.span.end);
        continue;
      }
      for (const s of [...shown].reverse()) {
        const { start, end } = s.instance.span;
        const item = out.slice(start, end);
        const replacement = !s.keep ? '' : s.state !== s.instance.state ? withInstanceState(item, s.state) : item;
        out = out.slice(0, start) + replacement + out.slice(end);
      }
    }
    return out;
  }
}
