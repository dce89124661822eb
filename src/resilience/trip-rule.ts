/**
 * Trip rules decide *when* a closed breaker opens; the breaker's state machine
 * (circuit-breaker.ts) decides everything else. Split as in cockatiel's
 * breaker strategies, so a rule is a small, separately testable counter.
 */
export interface TripRule {
  /** An outcome observed while closed. */
  record(ok: boolean, now: number): void;
  /** Asked after each recorded failure while closed. */
  shouldTrip(now: number): boolean;
  /** Forget history (the breaker closed again). */
  reset(now: number): void;
}

export interface ErrorRateRuleOptions {
  /** Trip when failures / total >= threshold. Default 0.5 (Kitex ErrRate, docs/guide/basic-features/circuitbreaker.md). */
  threshold?: number;
  /** ...and total >= minSamples within the window. Default 200 (Kitex minSample). */
  minSamples?: number;
  /** Sliding window length. Default 10_000 ms (the window Kitex's breaker counts over, via bytedance/gopkg). */
  windowMs?: number;
  /** Buckets the window is split into; older buckets drop out whole. Default 10. */
  buckets?: number;
}

/**
 * Error rate over a sliding time window made of fixed buckets: each bucket
 * holds counts for one slice of time and is reused (zeroed) once it is a full
 * window old. Memory is O(buckets); reading the rate is O(buckets).
 */
export class ErrorRateRule implements TripRule {
  readonly #threshold: number;
  readonly #minSamples: number;
  readonly #bucketMs: number;
  readonly #epoch: Float64Array; // which time slice each bucket holds
  readonly #ok: Float64Array;
  readonly #failed: Float64Array;

  constructor(options: ErrorRateRuleOptions = {}) {
    this.#threshold = options.threshold ?? 0.5;
    this.#minSamples = options.minSamples ?? 200;
    const windowMs = options.windowMs ?? 10_000;
    const n = options.buckets ?? 10;
    if (!(this.#threshold > 0 && this.#threshold <= 1)) throw new RangeError("threshold must be in (0, 1]");
    if (!Number.isInteger(n) || n < 1) throw new RangeError("buckets must be an integer >= 1");
    if (!(windowMs > 0)) throw new RangeError("windowMs must be > 0");
    this.#bucketMs = windowMs / n;
    this.#epoch = new Float64Array(n).fill(-Infinity);
    this.#ok = new Float64Array(n);
    this.#failed = new Float64Array(n);
  }

  record(ok: boolean, now: number): void {
    const slice = Math.floor(now / this.#bucketMs);
    const i = slice % this.#epoch.length;
    if (this.#epoch[i] !== slice) {
      this.#epoch[i] = slice;
      this.#ok[i] = 0;
      this.#failed[i] = 0;
    }
    if (ok) this.#ok[i]!++;
    else this.#failed[i]!++;
  }

  /** Counts inside the window ending now. */
  counts(now: number): { total: number; failures: number } {
    const current = Math.floor(now / this.#bucketMs);
    let total = 0;
    let failures = 0;
    for (let i = 0; i < this.#epoch.length; i++) {
      if (current - this.#epoch[i]! >= this.#epoch.length) continue;
      total += this.#ok[i]! + this.#failed[i]!;
      failures += this.#failed[i]!;
    }
    return { total, failures };
  }

  shouldTrip(now: number): boolean {
    const { total, failures } = this.counts(now);
    return total >= this.#minSamples && failures / total >= this.#threshold;
  }

  reset(): void {
    this.#epoch.fill(-Infinity);
  }
}

/** Trip after N failures in a row (cheap; for low-traffic upstreams where a rate needs too long to fill). */
export class ConsecutiveFailuresRule implements TripRule {
  readonly #limit: number;
  #run = 0;

  constructor(limit = 5) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("limit must be an integer >= 1");
    this.#limit = limit;
  }

  record(ok: boolean): void {
    this.#run = ok ? 0 : this.#run + 1;
  }

  shouldTrip(): boolean {
    return this.#run >= this.#limit;
  }

  reset(): void {
    this.#run = 0;
  }
}
