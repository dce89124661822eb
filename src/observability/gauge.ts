import { SeriesMap, validateLabelNames, validateMetricName, type Labels } from "./labels.ts";
import type { Metric, MetricOptions, ScalarSeries, ScalarSnapshot } from "./metric-types.ts";

export interface GaugeChild {
  set(v: number): void;
  inc(n?: number): void;
  dec(n?: number): void;
  readonly value: number;
}

class GaugeValue implements GaugeChild {
  #value = 0;
  get value(): number {
    return this.#value;
  }
  set(v: number): void {
    this.#value = v;
  }
  inc(n = 1): void {
    this.#value += n;
  }
  dec(n = 1): void {
    this.#value -= n;
  }
}

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called at every snapshot (scrape) to refresh values from a source of truth,
   * e.g. a pool's `stats()`. It sets values through the gauge it receives.
   * Must be synchronous; if it throws, the previous values are exported.
   */
  collect?: (gauge: Gauge<L>) => void;
}

export class Gauge<L extends string = never> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = "gauge" as const;
  readonly #series: SeriesMap<GaugeValue>;
  readonly #unlabelled: GaugeValue | undefined;
  readonly #collect: ((gauge: Gauge<L>) => void) | undefined;
  #collectErrors = 0;

  constructor(options: GaugeOptions<L>) {
    validateMetricName(options.name);
    const names = options.labelNames ?? [];
    validateLabelNames(options.name, names);
    this.name = options.name;
    this.help = options.help;
    this.#collect = options.collect;
    this.#series = new SeriesMap(options.name, names, () => new GaugeValue());
    this.#unlabelled = names.length === 0 ? this.#series.get({}) : undefined;
  }

  labels(labels: Labels<L>): GaugeChild {
    return this.#series.get(labels);
  }

  set(v: number): void {
    this.#only().set(v);
  }
  inc(n = 1): void {
    this.#only().inc(n);
  }
  dec(n = 1): void {
    this.#only().dec(n);
  }
  get value(): number {
    return this.#unlabelled?.value ?? 0;
  }

  remove(labels: Labels<L>): boolean {
    return this.#series.delete(labels);
  }

  /** Drops every labelled series (a collect callback may call this to forget vanished endpoints). */
  reset(): void {
    if (this.#unlabelled === undefined) this.#series.clear();
    else this.#unlabelled.set(0);
  }

  /** How many times the collect callback threw (it must never break a scrape). */
  get collectErrors(): number {
    return this.#collectErrors;
  }

  snapshot(): ScalarSnapshot {
    if (this.#collect !== undefined) {
      try {
        this.#collect(this);
      } catch {
        this.#collectErrors++;
      }
    }
    const series: ScalarSeries[] = [];
    for (const s of this.#series.values()) series.push({ values: s.values, value: s.child.value });
    return { type: "gauge", name: this.name, help: this.help, labelNames: this.#series.labelNames, series };
  }

  #only(): GaugeValue {
    if (this.#unlabelled === undefined) throw new TypeError(`${this.name}: use labels({...})`);
    return this.#unlabelled;
  }
}
