import { Counter } from "./counter.ts";
import { Gauge, type GaugeOptions } from "./gauge.ts";
import { Histogram, type HistogramOptions } from "./histogram.ts";
import type { Metric, MetricOptions, MetricSnapshot } from "./metric-types.ts";
import { renderPrometheusText } from "./prometheus-text.ts";

/**
 * Holds metrics by name and renders them. Names are unique: registering the same
 * name twice throws, so two modules can never silently share (and corrupt) a series.
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.register(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    return this.register(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.register(new Histogram<L>(options));
  }

  register<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new TypeError(`metric "${metric.name}" is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  unregister(name: string): boolean {
    return this.#metrics.delete(name);
  }

  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** Runs gauge collect callbacks, then copies every value. */
  snapshot(): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    for (const m of this.#metrics.values()) out.push(m.snapshot());
    return out;
  }

  /** Prometheus text format 0.0.4; serve with PROMETHEUS_CONTENT_TYPE. */
  render(): string {
    return renderPrometheusText(this.snapshot());
  }
}
