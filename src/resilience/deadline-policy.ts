/**
 * Deadline: the call (everything inside this policy) must finish by
 * min(now + timeoutMs, inherited deadlineAt). At the deadline the inner signal
 * aborts with a DEADLINE_EXCEEDED GatewayError and `execute` rejects with it,
 * even if the inner function ignores its signal.
 */
import { linkSignals, systemClock, type Clock, type GatewayError } from "../core/index.ts";
import { deriveContext, enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { deadlineExceededError } from "./errors.ts";
import { invoke, type Policy } from "./policy.ts";

export interface DeadlineOptions {
  /** Budget from entry into this policy. Omit to enforce only an inherited `deadlineAt`. */
  timeoutMs?: number;
  /** Named in the error message (e.g. the upstream). */
  name?: string;
  /** Time base of `deadlineAt`; timers still run on real time. Default systemClock. */
  clock?: Clock;
}

export class DeadlinePolicy implements Policy {
  readonly #timeoutMs: number | undefined;
  readonly #name: string | undefined;
  readonly #clock: Clock;

  constructor(options: DeadlineOptions = {}) {
    if (options.timeoutMs !== undefined && !(options.timeoutMs >= 0)) throw new RangeError("timeoutMs must be >= 0");
    this.#timeoutMs = options.timeoutMs;
    this.#name = options.name;
    this.#clock = options.clock ?? systemClock;
  }

  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const outer = enterContext(signal, options);
    const now = this.#clock.now();
    const own = this.#timeoutMs === undefined ? undefined : now + this.#timeoutMs;
    const at = own === undefined ? outer.deadlineAt : Math.min(own, outer.deadlineAt ?? Infinity);
    if (at === undefined) return invoke(fn, outer);
    // Name our own budget only when it is the one that binds.
    const timeoutMs = own !== undefined && own <= (outer.deadlineAt ?? Infinity) ? this.#timeoutMs : undefined;
    if (at <= now) return Promise.reject(deadlineExceededError(timeoutMs, this.#name));

    const ctl = new AbortController();
    const link = linkSignals(outer.signal, ctl.signal);
    const ctx = deriveContext(outer, { signal: link.signal, deadlineAt: at });
    return new Promise<T>((resolve, reject) => {
      let expired: GatewayError | undefined;
      const timer = setTimeout(() => {
        expired = deadlineExceededError(timeoutMs, this.#name);
        ctl.abort(expired);
        reject(expired);
      }, at - now);
      invoke(fn, ctx)
        .then(resolve, (e: unknown) => reject(expired ?? e))
        .finally(() => {
          clearTimeout(timer);
          link.dispose();
        });
    });
  }
}
