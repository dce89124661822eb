// Test support (not exported): time that only moves when a test says so.
import type { Timers } from "./timers.ts";
import type { LookupAddress, LookupFn } from "./types.ts";

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeTimers implements Timers {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];
  /** Every delay ever passed to set(), in order. */
  readonly delays: number[] = [];

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  set(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.delays.push(ms);
    this.#pending.push({ id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Delays (from now) of the timers still pending, sorted. */
  pendingDelays(): number[] {
    return this.#pending.map((p) => p.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order (and the ones they schedule), flushing promises between. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
    await flush();
  }
}

export function flush(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

type Answer = readonly LookupAddress[] | Error | "hang";

/** A lookup whose answers the test sets per host; records every call. */
export class FakeDns {
  readonly calls: string[] = [];
  readonly #answers = new Map<string, Answer>();

  set(host: string, answer: Answer): void {
    this.#answers.set(host, answer);
  }

  readonly lookup: LookupFn = (host) => {
    this.calls.push(host);
    const a = this.#answers.get(host) ?? new Error(`ENOTFOUND ${host}`);
    if (a === "hang") return new Promise(() => {});
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
}

export const v4 = (...addresses: string[]): LookupAddress[] => addresses.map((address) => ({ address, family: 4 }));
