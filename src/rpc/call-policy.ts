// Builds a route's resilience stack from plain options, in the one documented order
// (src/resilience/compose.ts): rate limit -> deadline -> bulkhead -> breaker -> retry -> hedge -> attempt.
// Breaker, retry budget and upstream bulkhead are shared per upstream; the rest is per route.
import { codeFromName, type GrpcCode } from "../core/index.ts";
import {
  Bulkhead, CircuitBreaker, composeCallPolicy, defaultRetryable, ErrorRateRule, HedgePolicy, LatencyEstimator, RateLimiter, RateLimitPolicy,
  RetryBudget, RetryPolicy, wrap, type Policy,
} from "../resilience/index.ts";
import { createStreamAdmission, type StreamAdmission } from "./stream-admission.ts";

export interface RetryOptions {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** gRPC code names, e.g. ["UNAVAILABLE"]. */
  readonly retryableCodes: readonly string[];
}

export interface HedgeOptions {
  readonly delayMs: number;
  /** Use this latency quantile (0..1) of recent successes as the delay instead. */
  readonly percentile?: number;
  readonly maxHedges: number;
}

export interface RouteResilienceOptions {
  readonly name: string;
  readonly retry?: RetryOptions;
  readonly hedge?: HedgeOptions;
  readonly maxConcurrent?: number;
  readonly queueSize?: number;
  readonly queueTimeoutMs?: number;
  readonly rateLimit?: { readonly ratePerSec: number; readonly burst: number };
}

export interface UpstreamResilienceOptions {
  readonly name: string;
  readonly breaker?: { readonly threshold: number; readonly minSamples: number; readonly windowMs: number; readonly cooldownMs: number; readonly halfOpenProbes: number };
  readonly retryBudget: { readonly maxTokens: number; readonly tokenRatio: number };
  readonly maxConcurrent?: number;
  readonly queueSize?: number;
  readonly queueTimeoutMs?: number;
}

/** Per-upstream shared parts. */
export interface UpstreamResilience {
  readonly breaker: CircuitBreaker | undefined;
  readonly budget: RetryBudget;
  readonly bulkhead: Bulkhead | undefined;
}

export function createUpstreamResilience(o: UpstreamResilienceOptions): UpstreamResilience {
  return {
    breaker: o.breaker
      ? new CircuitBreaker({
          name: `upstream ${o.name}`,
          rule: new ErrorRateRule({ threshold: o.breaker.threshold, minSamples: o.breaker.minSamples, windowMs: o.breaker.windowMs }),
          cooldownMs: o.breaker.cooldownMs,
          halfOpenProbes: o.breaker.halfOpenProbes,
        })
      : undefined,
    budget: new RetryBudget(o.retryBudget),
    bulkhead: o.maxConcurrent ? new Bulkhead({ name: `upstream ${o.name}`, maxConcurrent: o.maxConcurrent, maxQueue: o.queueSize ?? 0, queueTimeoutMs: o.queueTimeoutMs }) : undefined,
  };
}

export interface RouteCallPolicy {
  readonly policy: Policy;
  /** True when a retry policy handles never-sent failures (so the group shouldn't retry them itself). */
  readonly retries: boolean;
  readonly parts: { retry?: RetryPolicy; hedge?: HedgePolicy; bulkhead?: Bulkhead; rateLimit?: RateLimitPolicy };
  /** The same rate limit, bulkheads and breaker for streaming calls (which can't be retried or hedged). */
  readonly streams: StreamAdmission;
}

export function createRouteCallPolicy(o: RouteResilienceOptions, up: UpstreamResilience): RouteCallPolicy {
  const codes = new Set<GrpcCode>((o.retry?.retryableCodes ?? ["UNAVAILABLE"]).map((n) => codeFromName(n)).filter((c): c is GrpcCode => c !== undefined));
  const retry = o.retry && o.retry.maxAttempts > 1
    ? new RetryPolicy({
        name: o.name,
        maxAttempts: o.retry.maxAttempts,
        backoff: { initialMs: o.retry.initialBackoffMs, maxMs: o.retry.maxBackoffMs, multiplier: 2, jitter: 1 },
        retryable: (e) => defaultRetryable(e) || (typeof e === "object" && e !== null && codes.has((e as { code: GrpcCode }).code) && !(e as { biz?: unknown }).biz),
        budget: up.budget,
      })
    : undefined;
  const hedge = o.hedge
    ? new HedgePolicy({
        name: o.name,
        maxHedges: o.hedge.maxHedges,
        delayMs: o.hedge.delayMs,
        percentile: o.hedge.percentile,
        estimator: o.hedge.percentile !== undefined ? new LatencyEstimator() : undefined,
        budget: up.budget,
      })
    : undefined;
  const routeBulkhead = o.maxConcurrent
    ? new Bulkhead({ name: `route ${o.name}`, maxConcurrent: o.maxConcurrent, maxQueue: o.queueSize ?? 0, queueTimeoutMs: o.queueTimeoutMs })
    : undefined;
  const bulkhead = routeBulkhead && up.bulkhead ? wrap(routeBulkhead, up.bulkhead) : (routeBulkhead ?? up.bulkhead);
  const rateLimit = o.rateLimit
    ? new RateLimitPolicy({ name: o.name, limiter: new RateLimiter({ ratePerSec: o.rateLimit.ratePerSec, burst: o.rateLimit.burst }) })
    : undefined;
  return {
    policy: composeCallPolicy({ rateLimit, bulkhead, breaker: up.breaker, retry, hedge }),
    retries: retry !== undefined,
    parts: { retry, hedge, bulkhead: routeBulkhead, rateLimit },
    streams: createStreamAdmission({ rateLimit, bulkheads: [routeBulkhead, up.bulkhead].filter((b) => b !== undefined), breaker: up.breaker }),
  };
}
