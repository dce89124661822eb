import { Event, systemClock, type Clock } from "../core/index.ts";
import { OutlierDetector, type EndpointHealthStats, type OutlierEvent, type OutlierOptions } from "./outlier-detector.ts";
import { failPicker, queuePicker } from "./pick-result.ts";
import type { BalancerKind, EndpointHandle, FailureKind, Picker, PickContext, PickResult } from "./types.ts";

export interface BalancerOptions {
  /** Upstream name, for error messages. */
  readonly upstream?: string;
  /** Outlier ejection; false turns it off. Default: on with OutlierOptions defaults. */
  readonly outlier?: OutlierOptions | false;
  readonly clock?: Clock;
  /** Randomness for P2C draws, ring picks without a key and round-robin start offsets. */
  readonly random?: () => number;
}

export interface EndpointStats extends Partial<EndpointHealthStats> {
  readonly key: string;
  readonly weight: number;
  readonly inflight: number;
  /** In the current picker (weight > 0 and not ejected). */
  readonly pickable: boolean;
}

export interface BalancerStats {
  readonly kind: BalancerKind;
  readonly endpoints: readonly EndpointStats[];
  readonly pickable: number;
  readonly ejected: number;
  readonly maxEjected: number;
  /** Ejections refused because maxEjectionPercent was reached. */
  readonly skippedEjections: number;
  readonly pickerBuilds: number;
}

/**
 * Holds the endpoint list, the outlier state and the current picker snapshot, and rebuilds the
 * snapshot when any of them changes. The algorithm is only a picker factory. Ejections end lazily:
 * the next picker() call after one is due rebuilds the snapshot, so no timer is needed.
 */
export class Balancer<E extends EndpointHandle = EndpointHandle> {
  readonly kind: BalancerKind;
  readonly #build: (endpoints: readonly E[]) => Picker<E>;
  readonly #upstream: string | undefined;
  readonly #clock: Clock;
  readonly #detector: OutlierDetector | undefined;
  readonly #pickerChanged = new Event<Picker<E>>();
  readonly #outlierEvents = new Event<OutlierEvent>();
  #endpoints: readonly E[] | undefined;
  /** Weights as they were at setEndpoints, so a handle whose weight changed counts as a change. */
  #weights: readonly number[] = [];
  #picker: Picker<E> = queuePicker();
  #returnAt: number | undefined;
  #builds = 0;

  constructor(kind: BalancerKind, build: (endpoints: readonly E[]) => Picker<E>, options: BalancerOptions = {}) {
    this.kind = kind;
    this.#build = build;
    this.#upstream = options.upstream;
    this.#clock = options.clock ?? systemClock;
    this.#detector = options.outlier === false ? undefined : new OutlierDetector(options.outlier);
  }

  /** Replaces the endpoint list (one handle per key; later duplicates are ignored). */
  setEndpoints(endpoints: readonly E[]): void {
    const seen = new Set<string>();
    const list = endpoints.filter((e) => !seen.has(e.key) && (seen.add(e.key), true));
    const prev = this.#endpoints;
    if (prev && prev.length === list.length && list.every((e, i) => e === prev[i] && e.weight === this.#weights[i])) return;
    this.#endpoints = Object.freeze(list);
    this.#weights = list.map((e) => e.weight);
    this.#detector?.sync(list.filter(isWeighted).map((e) => e.key));
    this.#rebuild();
  }

  /** The current snapshot (rebuilt first if an ejection has ended). */
  picker(): Picker<E> {
    if (this.#returnAt !== undefined && this.#clock.now() >= this.#returnAt) {
      this.#detector?.returnDue(this.#clock.now()).forEach((key) => this.#outlierEvents.emit({ type: "returned", key }));
      this.#rebuild();
    }
    return this.#picker;
  }

  pick(ctx?: PickContext): PickResult<E> {
    return this.picker().pick(ctx);
  }

  recordSuccess(key: string): void {
    this.#detector?.recordSuccess(key, this.#clock.now());
  }

  /** connect: the endpoint could not be reached; call: it was reached but the call failed in a way that blames it. */
  recordFailure(key: string, kind: FailureKind): void {
    const event = this.#detector?.recordFailure(key, kind, this.#clock.now());
    if (!event) return;
    if (event.type === "ejected") this.#rebuild();
    this.#outlierEvents.emit(event);
  }

  /** A new snapshot was published (endpoint change, ejection, return). Callers that got "queue" retry here. */
  onPickerChange(fn: (picker: Picker<E>) => void): () => void {
    return this.#pickerChanged.on(fn);
  }

  onOutlier(fn: (event: OutlierEvent) => void): () => void {
    return this.#outlierEvents.on(fn);
  }

  stats(): BalancerStats {
    const now = this.#clock.now();
    this.picker();
    const inPicker = new Set(this.#picker.endpoints.map((e) => e.key));
    const endpoints = (this.#endpoints ?? []).map((e): EndpointStats => ({
      key: e.key,
      weight: e.weight,
      inflight: e.inflight(),
      pickable: inPicker.has(e.key),
      ...this.#detector?.stats(e.key, now),
    }));
    return {
      kind: this.kind,
      endpoints,
      pickable: inPicker.size,
      ejected: this.#detector?.ejectedCount() ?? 0,
      maxEjected: this.#detector?.maxEjected() ?? 0,
      skippedEjections: this.#detector?.skippedEjections ?? 0,
      pickerBuilds: this.#builds,
    };
  }

  #rebuild(): void {
    const all = this.#endpoints;
    if (all === undefined) return;
    const d = this.#detector;
    const usable = all.filter((e) => isWeighted(e) && !d?.isEjected(e.key));
    this.#returnAt = d?.nextReturnAt();
    const name = this.#upstream === undefined ? "" : ` for upstream "${this.#upstream}"`;
    this.#picker =
      usable.length > 0
        ? this.#build(usable)
        : failPicker(all.length === 0 ? `no endpoints${name}` : `no endpoint with weight > 0${name}`, this.#upstream);
    this.#builds++;
    this.#pickerChanged.emit(this.#picker);
  }
}

function isWeighted(e: EndpointHandle): boolean {
  return e.weight > 0 && Number.isFinite(e.weight);
}
