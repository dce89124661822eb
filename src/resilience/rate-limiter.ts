/**
 * Token buckets per client key: each key gets `burst` tokens refilled at
 * `ratePerSec`. Keys live in a Map kept in least-recently-used order and capped
 * at `maxKeys`; evicting the oldest key is nearly lossless because a key idle
 * that long has usually refilled to a full bucket, which is what a new key
 * starts with. So memory is bounded however many distinct keys clients send.
 */
import { systemClock, type Clock } from "../core/index.ts";

export interface RateLimiterOptions {
  /** Sustained rate per key. */
  ratePerSec: number;
  /** Bucket size: calls allowed at once after idling. Default max(1, ratePerSec). */
  burst?: number;
  /** Keys tracked at most. Default 10_000. */
  maxKeys?: number;
  clock?: Clock;
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #rate: number; // tokens per ms
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();
  #evicted = 0;

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerSec > 0)) throw new RangeError("ratePerSec must be > 0");
    this.#rate = options.ratePerSec / 1000;
    this.#burst = options.burst ?? Math.max(1, options.ratePerSec);
    if (!(this.#burst >= 1)) throw new RangeError("burst must be >= 1");
    this.#maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) throw new RangeError("maxKeys must be an integer >= 1");
    this.#clock = options.clock ?? systemClock;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  stats(): { keys: number; maxKeys: number; evicted: number } {
    return { keys: this.#buckets.size, maxKeys: this.#maxKeys, evicted: this.#evicted };
  }

  /** Takes `cost` tokens from key's bucket if it has them. */
  take(key: string, cost = 1): RateDecision {
    const now = this.#clock.now();
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key); // re-insert below: Map order = recency
      b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#rate);
      b.at = now;
    } else {
      b = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxKeys) this.#evictOldest();
    }
    this.#buckets.set(key, b);
    if (cost > this.#burst) return { allowed: false, retryAfterMs: Infinity };
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { allowed: true, remaining: Math.floor(b.tokens) };
    }
    return { allowed: false, retryAfterMs: Math.ceil((cost - b.tokens) / this.#rate) };
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) {
      this.#buckets.delete(oldest.value);
      this.#evicted++;
    }
  }
}
