import { SeriesMap, validateLabelNames, validateMetricName, type Labels } from "./labels.ts";
import type { Metric, MetricOptions, ScalarSeries, ScalarSnapshot } from "./metric-types.ts";

/** A pre-resolved counter series; keep it around on hot paths. */
export interface CounterChild {
  inc(n?: number): void;
  readonly value: number;
}

class CounterValue implements CounterChild {
  #value = 0;
  get value(): number {
    return this.#value;
  }
  inc(n = 1): void {
    // Counters only go up (Prometheus counter semantics); NaN fails this check too.
    if (!(n >= 0)) throw new RangeError(`counter increment must be >= 0, got ${n}`);
    this.#value += n;
  }
}

export class Counter<L extends string = never> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = "counter" as const;
  readonly #series: SeriesMap<CounterValue>;
  readonly #unlabelled: CounterValue | undefined;

  constructor(options: MetricOptions<L>) {
    validateMetricName(options.name);
    const names = options.labelNames ?? [];
    validateLabelNames(options.name, names);
    this.name = options.name;
    this.help = options.help;
    this.#series = new SeriesMap(options.name, names, () => new CounterValue());
    // An unlabelled counter exists (at 0) from the start, so scrapes see it before the first event.
    this.#unlabelled = names.length === 0 ? this.#series.get({}) : undefined;
  }

  labels(labels: Labels<L>): CounterChild {
    return this.#series.get(labels);
  }

  /** Only for counters without labels. */
  inc(n = 1): void {
    if (this.#unlabelled === undefined) throw new TypeError(`${this.name}: use labels({...}).inc()`);
    this.#unlabelled.inc(n);
  }

  get value(): number {
    return this.#unlabelled?.value ?? 0;
  }

  remove(labels: Labels<L>): boolean {
    return this.#series.delete(labels);
  }

  snapshot(): ScalarSnapshot {
    const series: ScalarSeries[] = [];
    for (const s of this.#series.values()) series.push({ values: s.values, value: s.child.value });
    return { type: "counter", name: this.name, help: this.help, labelNames: this.#series.labelNames, series };
  }
}
