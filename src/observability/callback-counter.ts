import { validateLabelNames, validateMetricName, type LabelValue, type Labels } from "./labels.ts";
import type { Metric, MetricOptions, ScalarSeries, ScalarSnapshot } from "./metric-types.ts";

export interface CallbackCounterOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called at every snapshot with an `add` function: reports totals kept elsewhere (e.g. a pool's
   * `opened` count). Reports with the same labels are summed. Must be synchronous; if it throws,
   * the previous snapshot's values are exported.
   */
  collect: (add: (labels: Labels<L>, value: number) => void) => void;
}

/**
 * A counter whose values live in another object's stats. Prometheus handles the drop when that
 * object is replaced (a counter reset), so totals of replaced objects need not be carried over.
 */
export class CallbackCounter<L extends string = never> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly type = "counter" as const;
  readonly #labelNames: readonly string[];
  readonly #collect: CallbackCounterOptions<L>["collect"];
  #last: ScalarSeries[] = [];

  constructor(options: CallbackCounterOptions<L>) {
    validateMetricName(options.name);
    const names = options.labelNames ?? [];
    validateLabelNames(options.name, names);
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = names;
    this.#collect = options.collect;
  }

  snapshot(): ScalarSnapshot {
    const sums = new Map<string, ScalarSeries>();
    try {
      this.#collect((labels, value) => {
        const values = this.#labelNames.map((n) => String((labels as Readonly<Record<string, LabelValue>>)[n]));
        const key = values.join("\u0000");
        const prev = sums.get(key);
        sums.set(key, { values, value: (prev?.value ?? 0) + value });
      });
      this.#last = [...sums.values()];
    } catch {
      // Keep the previous values: a broken source must not break the scrape.
    }
    return { type: "counter", name: this.name, help: this.help, labelNames: this.#labelNames, series: this.#last };
  }
}
