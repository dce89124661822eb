import { SeriesMap, validateLabelNames, validateMetricName, type Labels } from "./labels.ts";
import type { HistogramSeries, HistogramSnapshot, Metric, MetricOptions } from "./metric-types.ts";

/**
 * Latency buckets in seconds (Prometheus convention: base units). Starts at 1 ms
 * because a gateway hop is often sub-5 ms, ends at 10 s like the client_golang defaults.
 */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

export function linearBuckets(start: number, width: number, count: number): number[] {
  if (!(width > 0) || !(count >= 1)) throw new RangeError("linearBuckets: width must be > 0 and count >= 1");
  return Array.from({ length: count }, (_, i) => start + i * width);
}

export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !(count >= 1)) {
    throw new RangeError("exponentialBuckets: start must be > 0, factor > 1, count >= 1");
  }
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

export interface HistogramChild {
  observe(v: number): void;
  /** Starts a timer; calling the result observes the elapsed seconds and returns them. */
  startTimer(): () => number;
  readonly count: number;
  readonly sum: number;
}

class HistogramValue implements HistogramChild {
  readonly #bounds: readonly number[];
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf overflow. One write per observe. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  get count(): number {
    return this.#count;
  }
  get sum(): number {
    return this.#sum;
  }

  observe(v: number): void {
    const b = this.#bounds;
    let i = 0;
    // Linear scan: bucket lists are short, and the common (fast) observations exit early.
    while (i < b.length && !(v <= b[i]!)) i++;
    this.#counts[i]!++;
    this.#sum += v;
    this.#count++;
  }

  startTimer(): () => number {
    const t0 = performance.now();
    return () => {
      const s = (performance.now() - t0) / 1000;
      this.observe(s);
      return s;
    };
  }

  cumulative(): number[] {
    const out = new Array<number>(this.#counts.length);
    let acc = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      acc += this.#counts[i]!;
      out[i] = acc;
    }
    return out;
  }
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Finite upper bounds (any order, deduplicated); default DEFAULT_LATENCY_BUCKETS. */
  buckets?: readonly number[];
}

export class Histogram<L extends string = never> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram" as const;
  readonly buckets: readonly number[];
  readonly #series: SeriesMap<HistogramValue>;
  readonly #unlabelled: HistogramValue | undefined;

  constructor(options: HistogramOptions<L>) {
    validateMetricName(options.name);
    const names = options.labelNames ?? [];
    // "le" is the bucket label in the exposition format.
    validateLabelNames(options.name, names, ["le"]);
    const raw = options.buckets ?? DEFAULT_LATENCY_BUCKETS;
    if (raw.some((b) => !Number.isFinite(b))) throw new RangeError(`${options.name}: buckets must be finite (+Inf is implicit)`);
    const bounds = Object.freeze([...new Set(raw)].sort((a, b) => a - b));
    if (bounds.length === 0) throw new RangeError(`${options.name}: at least one bucket is required`);
    this.name = options.name;
    this.help = options.help;
    this.buckets = bounds;
    this.#series = new SeriesMap(options.name, names, () => new HistogramValue(bounds));
    this.#unlabelled = names.length === 0 ? this.#series.get({}) : undefined;
  }

  labels(labels: Labels<L>): HistogramChild {
    return this.#series.get(labels);
  }

  observe(v: number): void {
    this.#only().observe(v);
  }

  startTimer(): () => number {
    return this.#only().startTimer();
  }

  remove(labels: Labels<L>): boolean {
    return this.#series.delete(labels);
  }

  snapshot(): HistogramSnapshot {
    const series: HistogramSeries[] = [];
    for (const s of this.#series.values()) {
      series.push({ values: s.values, cumulative: s.child.cumulative(), sum: s.child.sum, count: s.child.count });
    }
    return {
      type: "histogram",
      name: this.name,
      help: this.help,
      labelNames: this.#series.labelNames,
      buckets: this.buckets,
      series,
    };
  }

  #only(): HistogramValue {
    if (this.#unlabelled === undefined) throw new TypeError(`${this.name}: use labels({...})`);
    return this.#unlabelled;
  }
}
