/**
 * Hedging (backup requests, "The Tail at Scale", Dean & Barroso 2013; gRFC A6
 * hedgingPolicy): start the call; if no attempt has succeeded after a delay,
 * start another, up to `maxHedges` extra attempts. The first success wins and
 * the others are aborted through their signals. A fatal error (one that
 * `nonFatal` rejects) ends the call at once; a non-fatal one starts the next
 * hedge immediately (or after its pushback). When every attempt has failed the
 * last error is returned (a sent failure is preferred over a `neverSent` one:
 * it says more about the upstream).
 *
 * Only idempotent calls are hedged (`ctx.idempotent`, set per call by the
 * invoker); other calls run exactly once through this policy.
 */
import { Event, GatewayError, linkSignals, systemClock, type Clock } from "../core/index.ts";
import { deriveContext, enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { hedgeLostReason } from "./errors.ts";
import { LatencyEstimator } from "./latency-estimator.ts";
import { invoke, type Policy } from "./policy.ts";
import { defaultHedgeNonFatal } from "./predicates.ts";
import type { RetryBudget } from "./retry-budget.ts";

export interface HedgeOptions {
  /** Extra attempts beyond the first. Default 1. */
  maxHedges?: number;
  /** Fixed delay before each hedge; also the fallback while the estimator warms up. Default 100. */
  delayMs?: number;
  /** Use this latency quantile (e.g. 0.95) of successful attempts as the delay instead of `delayMs`. */
  percentile?: number;
  /** Floor for the adaptive delay, so a fast upstream isn't hedged on every call. Default 5. */
  minDelayMs?: number;
  /** Shared per upstream/method; the policy records each winning attempt's latency into it. */
  estimator?: LatencyEstimator;
  /** Failures after which the race goes on. Default: UNAVAILABLE or neverSent. */
  nonFatal?: (e: unknown) => boolean;
  /** Hedges are also throttled by the upstream's retry budget (A6); only `tryRetry` is called here. */
  budget?: RetryBudget;
  name?: string;
  clock?: Clock;
}

export interface HedgeEvent {
  name: string | undefined;
  /** 1 = first hedge. */
  hedge: number;
  /** "delay" = the previous attempts were slow; "failure" = one failed with a non-fatal error. */
  trigger: "delay" | "failure";
}

export interface HedgeStats {
  calls: number;
  hedges: number;
  /** Calls won by a hedge rather than the first attempt. */
  hedgeWins: number;
  /** Hedges not started because the budget refused them. */
  throttled: number;
}

interface Running {
  ctl: AbortController;
  dispose: () => void;
  hedge: boolean;
  startedAt: number;
}

export class HedgePolicy implements Policy {
  readonly onHedge = new Event<HedgeEvent>();
  readonly #maxHedges: number;
  readonly #delayMs: number;
  readonly #percentile: number | undefined;
  readonly #minDelayMs: number;
  readonly #estimator: LatencyEstimator;
  readonly #nonFatal: (e: unknown) => boolean;
  readonly #budget: RetryBudget | undefined;
  readonly #name: string | undefined;
  readonly #clock: Clock;
  #stats: HedgeStats = { calls: 0, hedges: 0, hedgeWins: 0, throttled: 0 };

  constructor(options: HedgeOptions = {}) {
    this.#maxHedges = options.maxHedges ?? 1;
    if (!Number.isInteger(this.#maxHedges) || this.#maxHedges < 0) throw new RangeError("maxHedges must be an integer >= 0");
    this.#delayMs = options.delayMs ?? 100;
    this.#percentile = options.percentile;
    this.#minDelayMs = options.minDelayMs ?? 5;
    this.#estimator = options.estimator ?? new LatencyEstimator();
    this.#nonFatal = options.nonFatal ?? defaultHedgeNonFatal;
    this.#budget = options.budget;
    this.#name = options.name;
    this.#clock = options.clock ?? systemClock;
  }

  get estimator(): LatencyEstimator {
    return this.#estimator;
  }

  /** The delay the next hedge would wait. */
  currentDelayMs(): number {
    const q = this.#percentile === undefined ? undefined : this.#estimator.quantile(this.#percentile);
    return q === undefined ? this.#delayMs : Math.max(this.#minDelayMs, q);
  }

  stats(): HedgeStats {
    return { ...this.#stats };
  }

  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const outer = enterContext(signal, options);
    this.#stats.calls++;
    if (!outer.idempotent || this.#maxHedges === 0) return this.#timed(fn, outer);

    return new Promise<T>((resolve, reject) => {
      const running = new Set<Running>();
      let done = false;
      let hedges = 0;
      let stopped = false; // no more hedges (invalid pushback)
      let lastError: unknown;
      let timer: ReturnType<typeof setTimeout> | undefined;

      const finish = (winner: Running | undefined, ok: boolean, value: unknown) => {
        done = true;
        clearTimeout(timer);
        for (const r of running) {
          if (r !== winner) r.ctl.abort(hedgeLostReason());
          r.dispose();
        }
        running.clear();
        if (ok) resolve(value as T);
        else reject(value);
      };

      const canHedge = (): boolean => {
        if (done || stopped || hedges >= this.#maxHedges || outer.signal.aborted) return false;
        if (outer.deadlineAt !== undefined && this.#clock.now() >= outer.deadlineAt) return false;
        if (this.#budget && !this.#budget.tryRetry()) {
          this.#stats.throttled++;
          stopped = true;
          return false;
        }
        return true;
      };

      const schedule = (ms: number, trigger: HedgeEvent["trigger"]) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (canHedge()) start(trigger);
          else if (running.size === 0 && !done) finish(undefined, false, lastError);
        }, ms);
      };

      const start = (trigger: HedgeEvent["trigger"] | undefined) => {
        const hedge = trigger !== undefined;
        const ctl = new AbortController();
        const link = linkSignals(outer.signal, ctl.signal);
        const r: Running = { ctl, dispose: link.dispose, hedge, startedAt: this.#clock.now() };
        running.add(r);
        if (hedge) {
          hedges++;
          this.#stats.hedges++;
          this.onHedge.emit({ name: this.#name, hedge: hedges, trigger });
        }
        const ctx = deriveContext(outer, hedge ? { signal: link.signal, hedge: true, newAttempt: true } : { signal: link.signal });
        if (hedges < this.#maxHedges) schedule(this.currentDelayMs(), "delay");
        else {
          clearTimeout(timer);
          timer = undefined;
        }
        invoke(fn, ctx).then(
          (v) => {
            if (done) return;
            this.#estimator.record(this.#clock.now() - r.startedAt);
            if (r.hedge) this.#stats.hedgeWins++;
            finish(r, true, v);
          },
          (e: unknown) => {
            if (done) return;
            running.delete(r);
            r.dispose();
            const neverSent = GatewayError.is(e) && e.neverSent;
            if (lastError === undefined || !neverSent) lastError = e;
            if (!this.#nonFatal(e) || outer.signal.aborted) return finish(undefined, false, e);
            // Pushback (A6): a valid value delays the next hedge, an invalid one forbids more.
            const p = GatewayError.is(e) ? e.pushbackMs : undefined;
            if (p !== undefined && (!Number.isInteger(p) || p < 0)) stopped = true;
            else if (p !== undefined && hedges < this.#maxHedges) return schedule(p, "failure");
            if (canHedge()) return start("failure");
            // Every reason canHedge() refuses is permanent, so with nothing in flight we are done.
            if (running.size === 0) finish(undefined, false, lastError);
          },
        );
      };

      start(undefined);
    });
  }

  /** Non-hedged path: still feeds the estimator so the delay is warm when hedging applies. */
  async #timed<T>(fn: (ctx: AttemptContext) => Promise<T>, ctx: AttemptContext): Promise<T> {
    const t0 = this.#clock.now();
    const v = await invoke(fn, ctx);
    this.#estimator.record(this.#clock.now() - t0);
    return v;
  }
}
