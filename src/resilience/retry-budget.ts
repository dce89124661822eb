/**
 * Retry throttling shared by all calls to one upstream, after gRFC A6
 * "Throttling Retry Attempts and Hedged RPCs" (as grpc-js RetryThrottler does):
 * a bucket of `maxTokens`; each failed attempt costs 1, each success refunds
 * `tokenRatio`; retries and hedges are allowed only while tokens > maxTokens/2.
 * Under total failure the bucket drains and calls fall back to a single attempt,
 * so retries can't multiply load on an upstream that is already down.
 */
export interface RetryBudgetOptions {
  /** Default 10 (A6 allows 1..1000). */
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

export class RetryBudget {
  readonly #max: number;
  readonly #ratio: number;
  #tokens: number;
  #throttled = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.#max = options.maxTokens ?? 10;
    this.#ratio = options.tokenRatio ?? 0.1;
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
