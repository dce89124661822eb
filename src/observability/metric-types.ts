/** Plain snapshots every metric produces; the Prometheus renderer (and tests) read only these. */

export type MetricType = "counter" | "gauge" | "histogram";

export interface ScalarSeries {
  /** Label values in the order of `labelNames`. */
  readonly values: readonly string[];
  readonly value: number;
}

export interface HistogramSeries {
  readonly values: readonly string[];
  /** Cumulative counts, one per upper bound in `buckets`, then the +Inf bucket (== count). */
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

interface SnapshotBase {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

export interface ScalarSnapshot extends SnapshotBase {
  readonly type: "counter" | "gauge";
  readonly series: readonly ScalarSeries[];
}

export interface HistogramSnapshot extends SnapshotBase {
  readonly type: "histogram";
  /** Finite upper bounds, ascending; +Inf is implicit. */
  readonly buckets: readonly number[];
  readonly series: readonly HistogramSeries[];
}

export type MetricSnapshot = ScalarSnapshot | HistogramSnapshot;

/** What a registry holds. */
export interface Metric {
  readonly name: string;
  readonly type: MetricType;
  snapshot(): MetricSnapshot;
}

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}
