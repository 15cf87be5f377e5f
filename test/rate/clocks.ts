import type { Clock } from '../../src/rate/clock.js';

/** Time that moves only when a test advances it; sleepers wake in wake-time order. */
export class ManualClock implements Clock {
  private t: number;
  private sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  readonly sleeps: number[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => this.sleepers.push({ at: this.t + ms, seq: this.seq++, resolve }));
  }

  /** Jumps to an absolute time without waking sleepers (for tests that only call reserve()). */
  setNow(t: number): void {
    this.t = t;
  }

  /** Moves time forward, waking sleepers (and letting their continuations run) in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await flush();
    }
    this.t = target;
    await flush();
  }
}

/** Time that jumps forward by exactly what each sleep asks: no waiting, every delay recorded. */
export class JumpingClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
