/**
 * Successes and failures over the last `windowMs`, in fixed buckets (a sliding window that drops a
 * whole bucket at a time). Constant memory per endpoint whatever the call rate.
 */
export class FailureWindow {
  readonly #bucketMs: number;
  readonly #epochs: Float64Array;
  readonly #ok: Uint32Array;
  readonly #failed: Uint32Array;

  constructor(windowMs: number, buckets = 10) {
    this.#bucketMs = Math.max(1, windowMs / buckets);
    this.#epochs = new Float64Array(buckets).fill(-1);
    this.#ok = new Uint32Array(buckets);
    this.#failed = new Uint32Array(buckets);
  }

  add(success: boolean, now: number): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const i = epoch % this.#epochs.length;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#ok[i] = 0;
      this.#failed[i] = 0;
    }
    if (success) this.#ok[i]!++;
    else this.#failed[i]!++;
  }

  counts(now: number): { successes: number; failures: number } {
    const epoch = Math.floor(now / this.#bucketMs);
    const oldest = epoch - this.#epochs.length + 1;
    let successes = 0;
    let failures = 0;
    for (let i = 0; i < this.#epochs.length; i++) {
      const e = this.#epochs[i]!;
      if (e >= oldest && e <= epoch) {
        successes += this.#ok[i]!;
        failures += this.#failed[i]!;
      }
    }
    return { successes, failures };
  }

  reset(): void {
    this.#epochs.fill(-1);
  }
}
