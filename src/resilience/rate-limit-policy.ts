/**
 * The rate limiter as a policy: the call's `clientKey` picks the bucket
 * (undefined = one shared bucket). Refusals are RESOURCE_EXHAUSTED
 * "rate_limited" (HTTP 429) carrying the wait as a RetryInfo detail (errors.ts).
 */
import { Event } from "../core/index.ts";
import { enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";
import { rateLimitedError } from "./errors.ts";
import { invoke, type Policy } from "./policy.ts";
import type { RateLimiter } from "./rate-limiter.ts";

export interface RateLimitPolicyOptions {
  name: string;
  limiter: RateLimiter;
  /** Bucket key when the call has no clientKey. Default "". */
  defaultKey?: string;
}

export interface RateLimitedEvent {
  name: string;
  key: string;
  retryAfterMs: number;
}

export class RateLimitPolicy implements Policy {
  readonly name: string;
  readonly onLimited = new Event<RateLimitedEvent>();
  readonly #limiter: RateLimiter;
  readonly #defaultKey: string;

  constructor(options: RateLimitPolicyOptions) {
    this.name = options.name;
    this.#limiter = options.limiter;
    this.#defaultKey = options.defaultKey ?? "";
  }

  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
    const ctx = enterContext(signal, options);
    const key = ctx.clientKey ?? this.#defaultKey;
    const d = this.#limiter.take(key);
    if (!d.allowed) {
      this.onLimited.emit({ name: this.name, key, retryAfterMs: d.retryAfterMs });
      return Promise.reject(rateLimitedError(this.name, d.retryAfterMs));
    }
    return invoke(fn, ctx);
  }
}
