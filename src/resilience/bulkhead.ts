/**
 * Bulkhead: at most `maxConcurrent` calls run at once; up to `maxQueue` more
 * wait in FIFO order for at most `queueTimeoutMs`. Anything beyond that is
 * refused with UNAVAILABLE "overloaded" (HTTP 503): shedding load early beats
 * letting latency and memory grow without bound.
 */
import { Event } from "../core/index.ts";
import { enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { overloadedError } from "./errors.ts";
import { invoke, type Policy } from "./policy.ts";

export interface BulkheadOptions {
  name: string;
  maxConcurrent: number;
  /** Waiting calls allowed beyond maxConcurrent. Default 0 (refuse at once). */
  maxQueue?: number;
  /** Longest wait in the queue. Default 1000 ms. */
  queueTimeoutMs?: number;
}

export interface BulkheadStats {
  name: string;
  active: number;
  queued: number;
  maxConcurrent: number;
  maxQueue: number;
  /** Refused because the queue was full. */
  rejected: number;
  /** Gave up waiting in the queue. */
  timedOut: number;
}

export interface BulkheadRejection {
  name: string;
  why: "queue_full" | "queue_timeout";
}

interface Waiter {
  admit(): void;
}

export class Bulkhead implements Policy {
  readonly name: string;
  readonly onReject = new Event<BulkheadRejection>();
  readonly #max: number;
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #rejected = 0;
  #timedOut = 0;

  constructor(options: BulkheadOptions) {
    this.name = options.name;
    this.#max = options.maxConcurrent;
    this.#maxQueue = options.maxQueue ?? 0;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? 1000;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError("maxConcurrent must be an integer >= 1");
    if (!Number.isInteger(this.#maxQueue) || this.#maxQueue < 0) throw new RangeError("maxQueue must be an integer >= 0");
  }

  stats(): BulkheadStats {
    return {
      name: this.name,
      active: this.#active,
      queued: this.#queue.length,
      maxConcurrent: this.#max,
      maxQueue: this.#maxQueue,
      rejected: this.#rejected,
      timedOut: this.#timedOut,
    };
  }

  async execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const ctx = enterContext(signal, options);
    await this.#acquire(ctx.signal);
    try {
      return await invoke(fn, ctx);
    } finally {
      this.#release();
    }
  }

  /**
   * Take a slot by hand (for streams, whose slot is held until the stream ends).
   * Resolves to a release function that is safe to call more than once.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    await this.#acquire(signal ?? new AbortController().signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  #acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#max && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#maxQueue) {
      this.#rejected++;
      this.onReject.emit({ name: this.name, why: "queue_full" });
      return Promise.reject(overloadedError(this.name, `is full (${this.#max} running, ${this.#maxQueue} queued)`));
    }
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        admit: () => {
          leave();
          this.#active++;
          resolve();
        },
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        leave();
        this.#timedOut++;
        this.onReject.emit({ name: this.name, why: "queue_timeout" });
        reject(overloadedError(this.name, `queue wait exceeded ${this.#queueTimeoutMs}ms`));
      }, this.#queueTimeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    this.#active--;
    // Hand the freed slot straight to the oldest waiter so newcomers can't jump the queue.
    if (this.#active < this.#max) this.#queue[0]?.admit();
  }
}
