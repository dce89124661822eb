/**
 * A small streaming latency estimator: the last `window` samples in a ring,
 * quantiles read from a sorted copy that is rebuilt at most every `refreshEvery`
 * samples. Memory is fixed, recent behaviour dominates (old samples fall out),
 * and the hot path (`record`) is O(1). Good enough for choosing a hedging delay,
 * where "roughly the p95 of the last few hundred calls" is the goal.
 */
export interface LatencyEstimatorOptions {
  /** Samples kept. Default 256. */
  window?: number;
  /** Quantiles are undefined until this many samples were seen. Default 20. */
  minSamples?: number;
  /** Rebuild the sorted snapshot after this many new samples. Default 16. */
  refreshEvery?: number;
}

export class LatencyEstimator {
  readonly #ring: Float64Array;
  readonly #minSamples: number;
  readonly #refreshEvery: number;
  #next = 0;
  #count = 0;
  #sorted: Float64Array | undefined;
  #sinceSort = 0;

  constructor(options: LatencyEstimatorOptions = {}) {
    const window = options.window ?? 256;
    if (!Number.isInteger(window) || window < 1) throw new RangeError("window must be an integer >= 1");
    this.#ring = new Float64Array(window);
    this.#minSamples = Math.min(options.minSamples ?? 20, window);
    this.#refreshEvery = Math.max(1, options.refreshEvery ?? 16);
  }

  /** Samples currently held. */
  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#count < this.#ring.length) this.#count++;
    this.#sinceSort++;
  }

  /** The q-quantile (0..1) of recent samples, nearest-rank; undefined while warming up. */
  quantile(q: number): number | undefined {
    if (this.#count < this.#minSamples || this.#count === 0) return undefined;
    if (!this.#sorted || this.#sinceSort >= this.#refreshEvery) {
      this.#sorted = this.#ring.slice(0, this.#count).sort();
      this.#sinceSort = 0;
    }
    const s = this.#sorted;
    const rank = Math.ceil(Math.min(1, Math.max(0, q)) * s.length);
    return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
  }
}
