/**
 * Circuit breaker state machine: closed -> open -> half-open -> closed | open.
 * When to open is the TripRule's business (trip-rule.ts); which errors count
 * as failures is a predicate; everything here is state and permits.
 *
 * - closed: every call passes; outcomes go to the rule; a failure that makes
 *   the rule trip opens the breaker.
 * - open: calls fail fast with UNAVAILABLE "circuit_open" until `cooldownMs`
 *   has passed (checked lazily on the next call or `state` read).
 * - half-open: up to `halfOpenProbes` calls pass as probes, the rest fail fast;
 *   when all of them succeed the breaker closes (and the rule is reset); any
 *   probe failure reopens it for another cool-down.
 *
 * Outcomes of calls admitted in an earlier state are ignored, so a slow call
 * started while closed can't close a breaker that has since opened.
 */
import { Event, systemClock, type Clock } from "../core/index.ts";
import { enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { circuitOpenError } from "./errors.ts";
import { invoke, type Policy } from "./policy.ts";
import { defaultBreakerFailure, isCancellation } from "./predicates.ts";
import { ErrorRateRule, type TripRule } from "./trip-rule.ts";

export const BreakerState = { closed: "closed", open: "open", halfOpen: "half_open" } as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

export interface CircuitBreakerOptions {
  /** Named in errors and events, usually the upstream name. */
  name: string;
  /** Default: new ErrorRateRule() (50% over >= 200 calls in 10 s). */
  rule?: TripRule;
  /** Open time before probing. Default 5000 ms. */
  cooldownMs?: number;
  /** Probes let through while half-open; all must succeed to close. Default 1. */
  halfOpenProbes?: number;
  /** Which errors mean "upstream unhealthy". Default: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED. */
  isFailure?: (e: unknown) => boolean;
  clock?: Clock;
}

export interface BreakerStateChange {
  name: string;
  from: BreakerState;
  to: BreakerState;
  at: number;
}

export interface BreakerStats {
  name: string;
  state: BreakerState;
  /** Calls refused while open or half-open. */
  rejected: number;
  /** Times the breaker opened. */
  opened: number;
}

/** One admitted call. Report exactly one outcome; later reports are ignored. */
export interface BreakerPermit {
  success(): void;
  failure(): void;
  /** Neither: the call was cancelled by its caller. Frees a half-open probe slot. */
  release(): void;
}

export class CircuitBreaker implements Policy {
  readonly name: string;
  readonly onStateChange = new Event<BreakerStateChange>();
  readonly #rule: TripRule;
  readonly #cooldownMs: number;
  readonly #probes: number;
  readonly #isFailure: (e: unknown) => boolean;
  readonly #clock: Clock;
  #state: BreakerState = BreakerState.closed;
  #generation = 0; // bumps on every transition
  #openedAt = 0;
  #probesOut = 0;
  #probesOk = 0;
  #rejected = 0;
  #opened = 0;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.#rule = options.rule ?? new ErrorRateRule();
    this.#cooldownMs = options.cooldownMs ?? 5000;
    this.#probes = options.halfOpenProbes ?? 1;
    if (!Number.isInteger(this.#probes) || this.#probes < 1) throw new RangeError("halfOpenProbes must be an integer >= 1");
    this.#isFailure = options.isFailure ?? defaultBreakerFailure;
    this.#clock = options.clock ?? systemClock;
  }

  /** Current state (an expired cool-down turns open into half-open here). */
  get state(): BreakerState {
    this.#tick(this.#clock.now());
    return this.#state;
  }

  stats(): BreakerStats {
    return { name: this.name, state: this.state, rejected: this.#rejected, opened: this.#opened };
  }

  /** Admit one call, or undefined if the breaker refuses it (for callers that can't use execute, e.g. streams). */
  tryAcquire(): BreakerPermit | undefined {
    const now = this.#clock.now();
    this.#tick(now);
    if (this.#state === BreakerState.open) return this.#reject();
    const probe = this.#state === BreakerState.halfOpen;
    if (probe) {
      if (this.#probesOut >= this.#probes) return this.#reject();
      this.#probesOut++;
    }
    const gen = this.#generation;
    let done = false;
    const report = (outcome: "ok" | "fail" | "none") => {
      if (done) return;
      done = true;
      if (gen === this.#generation) this.#onOutcome(outcome, probe);
    };
    return { success: () => report("ok"), failure: () => report("fail"), release: () => report("none") };
  }

  /** How long until an open breaker probes again (0 unless open). */
  retryAfterMs(): number {
    if (this.state !== BreakerState.open) return 0;
    return Math.max(0, this.#openedAt + this.#cooldownMs - this.#clock.now());
  }

  async execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const ctx = enterContext(signal, options);
    const permit = this.tryAcquire();
    if (!permit) throw circuitOpenError(this.name, this.retryAfterMs());
    try {
      const value = await invoke(fn, ctx);
      permit.success();
      return value;
    } catch (e) {
      // When our signal fired, its reason (deadline vs. caller cancel) is the truer cause.
      this.settle(permit, ctx.signal.aborted ? ctx.signal.reason : e);
      throw e;
    }
  }

  /**
   * Reports how a call admitted by tryAcquire() ended, classified as execute() does: no error is a
   * success, a cancellation neither, an unhealthy error (isFailure) a failure; any other error means
   * the upstream answered (a business or caller error is not ill health), so a success.
   */
  settle(permit: BreakerPermit, error?: unknown): void {
    if (error === undefined) permit.success();
    else if (isCancellation(error)) permit.release();
    else if (this.#isFailure(error)) permit.failure();
    else permit.success();
  }

  /** Back to closed with a clean rule (admin action). */
  reset(): void {
    this.#transition(BreakerState.closed, this.#clock.now());
  }

  #reject(): undefined {
    this.#rejected++;
    return undefined;
  }

  #tick(now: number): void {
    if (this.#state === BreakerState.open && now - this.#openedAt >= this.#cooldownMs) {
      this.#transition(BreakerState.halfOpen, now);
    }
  }

  #onOutcome(outcome: "ok" | "fail" | "none", probe: boolean): void {
    const now = this.#clock.now();
    if (this.#state === BreakerState.closed) {
      if (outcome === "none") return;
      this.#rule.record(outcome === "ok", now);
      if (outcome === "fail" && this.#rule.shouldTrip(now)) this.#transition(BreakerState.open, now);
      return;
    }
    if (this.#state !== BreakerState.halfOpen || !probe) return;
    if (outcome === "none") this.#probesOut--;
    else if (outcome === "fail") this.#transition(BreakerState.open, now);
    else if (++this.#probesOk >= this.#probes) this.#transition(BreakerState.closed, now);
  }

  #transition(to: BreakerState, now: number): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#probesOut = 0;
    this.#probesOk = 0;
    if (to === BreakerState.open) {
      this.#openedAt = now;
      this.#opened++;
    }
    if (to === BreakerState.closed) this.#rule.reset(now);
    if (from !== to) this.onStateChange.emit({ name: this.name, from, to, at: now });
  }
}
