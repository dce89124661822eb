/**
 * Label handling shared by all metric types: name validation and the child
 * cache keyed by the joined label values (the hot path of `metric.labels()`).
 */

export type LabelValue = string | number;
/** The label set of one series; keys are exactly the metric's label names. */
export type Labels<L extends string> = { readonly [K in L]: LabelValue };

// Prometheus data model: https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function validateMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name: ${JSON.stringify(name)}`);
}

export function validateLabelNames(metric: string, names: readonly string[], reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const n of names) {
    // Names starting with "__" are reserved for Prometheus internals.
    if (!LABEL_NAME.test(n) || n.startsWith("__")) throw new TypeError(`${metric}: invalid label name ${JSON.stringify(n)}`);
    if (reserved.includes(n)) throw new TypeError(`${metric}: label name "${n}" is reserved`);
    if (seen.has(n)) throw new TypeError(`${metric}: duplicate label name "${n}"`);
    seen.add(n);
  }
}

/** One series: its label values in label-name order, and the child holding its value. */
export interface Series<C> {
  readonly values: readonly string[];
  readonly child: C;
}

/**
 * Children cached by their label values joined with U+0000, so a repeated
 * `labels({...})` costs one string concat and one Map lookup. Label values that
 * themselves contain U+0000 could alias; they never occur in practice.
 */
export class SeriesMap<C> {
  readonly #metric: string;
  readonly #names: readonly string[];
  readonly #make: () => C;
  readonly #series = new Map<string, Series<C>>();

  constructor(metric: string, names: readonly string[], make: () => C) {
    this.#metric = metric;
    this.#names = names;
    this.#make = make;
  }

  get labelNames(): readonly string[] {
    return this.#names;
  }

  get size(): number {
    return this.#series.size;
  }

  get(labels: Readonly<Record<string, LabelValue>>): C {
    const key = this.#key(labels);
    const hit = this.#series.get(key);
    if (hit !== undefined) return hit.child;
    const values = this.#names.map((n) => String(labels[n]));
    const child = this.#make();
    this.#series.set(key, { values, child });
    return child;
  }

  delete(labels: Readonly<Record<string, LabelValue>>): boolean {
    return this.#series.delete(this.#key(labels));
  }

  clear(): void {
    this.#series.clear();
  }

  values(): IterableIterator<Series<C>> {
    return this.#series.values();
  }

  #key(labels: Readonly<Record<string, LabelValue>>): string {
    const names = this.#names;
    let key = "";
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i]!];
      if (v === undefined) throw new TypeError(`${this.#metric}: missing label "${names[i]}"`);
      key = i === 0 ? String(v) : key + "\u0000" + v;
    }
    return key;
  }
}
