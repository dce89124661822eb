/**
 * Retry: run again after a retryable failure, with exponential back-off and
 * jitter, gated by idempotency, a shared retry budget and the call deadline.
 *
 * - `neverSent` errors (the request never reached the wire: connect failure, connection closed or
 *   GOAWAY before the stream was written, REFUSED_STREAM) get one *transparent* retry per call, at
 *   once, whatever the method's idempotency, maxAttempts or `retryable`, and outside the budget: it
 *   neither asks for a token nor costs one, nor counts as an attempt. That is gRFC A6 §"Transparent
 *   Retries": failures that never reached the server application "are always safe to retry", "do not
 *   count as failures when deciding whether to throttle retry attempts" and "do not count toward the
 *   limit of configured RPC attempts (maxAttempts)"; grpc-js retries a REFUSED call once this way and
 *   hands a second one to the retry policy (retrying-call.ts). So do we: a further never-sent failure
 *   is an ordinary attempt (counted, budget-gated) that still skips the idempotency check (it is still
 *   safe), and is never charged to the budget (the server saw nothing). A6 would even retry a call
 *   that never left the client until its deadline; one per call (issue #4: "retried once") bounds the
 *   extra load to one more connect attempt per call when every endpoint is down.
 * - Other errors: retried only for idempotent calls and when `retryable(e)`.
 * - `pushbackMs` on the error (grpc-retry-pushback-ms, gRFC A6) replaces the
 *   back-off and resets it; a negative or non-integer pushback means "don't retry".
 * - A back-off that would end at or after `ctx.deadlineAt` is not started.
 */
import { backoffDelay, Event, GatewayError, sleep, systemClock, type BackoffOptions, type Clock } from "../core/index.ts";
import { deriveContext, enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { invoke, type Policy } from "./policy.ts";
import { defaultRetryable } from "./predicates.ts";
import type { RetryBudget } from "./retry-budget.ts";

export interface RetryOptions {
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number;
  /** Default { initialMs: 50, maxMs: 1000, multiplier: 2, jitter: 1 } (full jitter). */
  backoff?: BackoffOptions;
  /** Default: GatewayError UNAVAILABLE (not a business error). */
  retryable?: (e: unknown) => boolean;
  /** Shared per upstream. The retry policy feeds it with every attempt's outcome. */
  budget?: RetryBudget;
  /** Refuse a retry unless at least this much time would be left before the deadline after back-off. Default 0. */
  minAttemptMs?: number;
  /** Never-sent failures retried per call at once, uncounted and outside the budget (gRFC A6). Default 1. */
  transparentRetries?: number;
  name?: string;
  clock?: Clock;
  random?: () => number;
}

export type GiveUpReason =
  | "not_retryable"
  | "not_idempotent"
  | "exhausted"
  | "budget"
  | "deadline"
  | "pushback"
  | "cancelled";

export interface RetryEvent {
  name: string | undefined;
  /** The attempt about to start (1 = first retry). */
  retry: number;
  delayMs: number;
  pushback: boolean;
  neverSent: boolean;
  /** A transparent never-sent retry (not counted against maxAttempts nor the budget). */
  transparent: boolean;
  error: unknown;
}

export interface GiveUpEvent {
  name: string | undefined;
  reason: GiveUpReason;
  attempts: number;
  error: unknown;
}

export interface RetryStats {
  calls: number;
  attempts: number;
  retries: number;
  /** Of `retries`, the transparent never-sent ones. */
  transparentRetries: number;
  successes: number;
  /** Calls that ended in an error, by why no further retry was made. */
  gaveUp: Record<GiveUpReason, number>;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 1000, multiplier: 2, jitter: 1 };

type Plan = { delayMs: number; pushback: boolean; neverSent: boolean; transparent: boolean } | { giveUp: GiveUpReason };

export class RetryPolicy implements Policy {
  readonly onRetry = new Event<RetryEvent>();
  readonly onGiveUp = new Event<GiveUpEvent>();
  readonly #maxAttempts: number;
  readonly #backoff: BackoffOptions;
  readonly #retryable: (e: unknown) => boolean;
  readonly #budget: RetryBudget | undefined;
  readonly #minAttemptMs: number;
  readonly #transparentRetries: number;
  readonly #name: string | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  #stats: RetryStats = {
    calls: 0,
    attempts: 0,
    retries: 0,
    transparentRetries: 0,
    successes: 0,
    gaveUp: { not_retryable: 0, not_idempotent: 0, exhausted: 0, budget: 0, deadline: 0, pushback: 0, cancelled: 0 },
  };

  constructor(options: RetryOptions = {}) {
    this.#maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1) throw new RangeError("maxAttempts must be an integer >= 1");
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#retryable = options.retryable ?? defaultRetryable;
    this.#budget = options.budget;
    this.#minAttemptMs = options.minAttemptMs ?? 0;
    this.#transparentRetries = options.transparentRetries ?? 1;
    if (!Number.isInteger(this.#transparentRetries) || this.#transparentRetries < 0) throw new RangeError("transparentRetries must be an integer >= 0");
    this.#name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  async execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const outer = enterContext(signal, options);
    this.#stats.calls++;
    let ctx = outer;
    let attempts = 0; // every attempt started
    let transparent = 0; // of which transparent retries (not counted against maxAttempts)
    let backoffStep = 0;
    for (;;) {
      attempts++;
      this.#stats.attempts++;
      let error: unknown;
      try {
        const value = await invoke(fn, ctx);
        this.#budget?.onSuccess();
        this.#stats.successes++;
        return value;
      } catch (e) {
        error = e;
      }
      const plan = this.#plan(error, outer, attempts - transparent, transparent, backoffStep);
      if ("giveUp" in plan) throw this.#giveUp(plan.giveUp, attempts, error);
      if (plan.transparent) {
        transparent++;
        this.#stats.transparentRetries++;
      } else {
        backoffStep = plan.pushback ? 0 : backoffStep + 1;
      }
      this.#stats.retries++;
      this.onRetry.emit({ name: this.#name, retry: attempts, error, ...plan });
      if (plan.delayMs > 0) {
        try {
          await sleep(plan.delayMs, outer.signal);
        } catch {
          throw this.#giveUp("cancelled", attempts, outer.signal.reason ?? error);
        }
      }
      // Timers can fire late: never start an attempt at or past the deadline.
      if (outer.signal.aborted) throw this.#giveUp("cancelled", attempts, outer.signal.reason ?? error);
      if (this.#pastDeadline(outer, 0)) throw this.#giveUp("deadline", attempts, error);
      ctx = deriveContext(outer, { newAttempt: true });
    }
  }

  /** `counted`: attempts so far that count against maxAttempts; `transparent`: transparent retries used. */
  #plan(e: unknown, outer: AttemptContext, counted: number, transparent: number, backoffStep: number): Plan {
    // Caller gone or the enclosing deadline fired: the answer no longer matters.
    if (outer.signal.aborted) return { giveUp: "cancelled" };
    const neverSent = GatewayError.is(e) && e.neverSent;
    // gRFC A6 transparent retry: at once, on another endpoint, outside maxAttempts and the budget.
    if (neverSent && transparent < this.#transparentRetries) {
      if (this.#pastDeadline(outer, 0)) return { giveUp: "deadline" };
      return { delayMs: 0, pushback: false, neverSent, transparent: true };
    }
    const retryable = neverSent || this.#retryable(e);
    if (!retryable) return { giveUp: "not_retryable" };
    // A6: only failures the server application saw are throttling failures.
    if (!neverSent) this.#budget?.onFailure();
    if (!neverSent && !outer.idempotent) return { giveUp: "not_idempotent" };
    if (counted >= this.#maxAttempts) return { giveUp: "exhausted" };

    const pushbackMs = GatewayError.is(e) ? e.pushbackMs : undefined;
    let delayMs: number;
    if (pushbackMs !== undefined) {
      if (!Number.isInteger(pushbackMs) || pushbackMs < 0) return { giveUp: "pushback" };
      delayMs = pushbackMs;
    } else {
      delayMs = backoffDelay(backoffStep, this.#backoff, this.#random);
    }
    if (this.#pastDeadline(outer, delayMs)) return { giveUp: "deadline" };
    if (this.#budget && !this.#budget.tryRetry()) return { giveUp: "budget" };
    return { delayMs, pushback: pushbackMs !== undefined, neverSent, transparent: false };
  }

  /** Counts and announces the end of the retries; returns the error to throw. */
  #giveUp(reason: GiveUpReason, attempts: number, error: unknown): unknown {
    this.#stats.gaveUp[reason]++;
    this.onGiveUp.emit({ name: this.#name, reason, attempts, error });
    return error;
  }

  /** Would an attempt starting after `delayMs` begin with less than minAttemptMs left? */
  #pastDeadline(outer: AttemptContext, delayMs: number): boolean {
    return outer.deadlineAt !== undefined && this.#clock.now() + delayMs + this.#minAttemptMs >= outer.deadlineAt;
  }

  stats(): RetryStats {
    return { ...this.#stats, gaveUp: { ...this.#stats.gaveUp } };
  }
}
