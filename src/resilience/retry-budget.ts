/**
 * Retry throttling shared by all calls to one upstream, after gRFC A6 "Throttling Retry Attempts and
 * Hedged RPCs" (as grpc-js RetryThrottler does): a bucket of `maxTokens`; each failed attempt with a
 * retryable code costs 1, each success refunds `tokenRatio`; retries and hedges are allowed only while
 * tokens > maxTokens/2. Under total failure the bucket drains and calls fall back to a single attempt,
 * so retries can't multiply load on an upstream that is already down.
 *
 * What is NOT charged: a failure that never reached the server (`neverSent`). A6 §"Transparent
 * Retries": "Since retry throttling is designed to prevent server application overload, and these
 * transparent retries do not make it to the server application layer, they do not count as failures
 * when deciding whether to throttle retry attempts" (grpc-js likewise calls addCallFailed only for
 * processed statuses). RetryPolicy bounds those retries per call instead (one transparent retry).
 *
 * Default size: A6's example `{ maxTokens: 10, tokenRatio: 0.1 }` turns retries off after 5 failures
 * in a row. A gateway multiplexes: one SIGKILLed backend loses every call in flight on it at once
 * (8 in test/fault/hard-kill.test.ts, hundreds on a busy multiplexed connection), so a 10-token bucket
 * refused about half of those retries there although two healthy endpoints were left. Envoy sizes its retry budget
 * by load instead: concurrent retries up to `budget_percent` (default 20 %) of active requests, never
 * below `min_retry_concurrency` (default 3) (envoy/config/cluster/v3/circuit_breaker.proto,
 * RetryBudget). We keep A6's ratio (retries stay off while failures exceed ~10 % of successes: the
 * storm protection) and raise the burst it absorbs: 100 tokens = 50 simultaneous losses retried.
 * grpc-js accepts maxTokens in (0, 1000].
 */
export interface RetryBudgetOptions {
  /** Default 100 (A6 allows (0, 1000]). */
  maxTokens?: number;
  /** Refund per success, default 0.1 (A6: > 0; 0.1 => ~1 retry per 10 successes at equilibrium). */
  tokenRatio?: number;
}

export interface RetryBudgetStats {
  tokens: number;
  maxTokens: number;
  /** Retries/hedges refused because the budget was at or below half. */
  throttled: number;
}

export const DEFAULT_RETRY_BUDGET = { maxTokens: 100, tokenRatio: 0.1 } as const;

export class RetryBudget {
  readonly #max: number;
  readonly #ratio: number;
  #tokens: number;
  #throttled = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.#max = options.maxTokens ?? DEFAULT_RETRY_BUDGET.maxTokens;
    this.#ratio = options.tokenRatio ?? DEFAULT_RETRY_BUDGET.tokenRatio;
    if (!(this.#max > 0)) throw new RangeError("maxTokens must be > 0");
    if (!(this.#ratio > 0)) throw new RangeError("tokenRatio must be > 0");
    this.#tokens = this.#max;
  }

  get tokens(): number {
    return this.#tokens;
  }

  onSuccess(): void {
    this.#tokens = Math.min(this.#max, this.#tokens + this.#ratio);
  }

  onFailure(): void {
    this.#tokens = Math.max(0, this.#tokens - 1);
  }

  /** Asks for one retry or hedge; counts a refusal. */
  tryRetry(): boolean {
    if (this.#tokens > this.#max / 2) return true;
    this.#throttled++;
    return false;
  }

  stats(): RetryBudgetStats {
    return { tokens: this.#tokens, maxTokens: this.#max, throttled: this.#throttled };
  }
}
