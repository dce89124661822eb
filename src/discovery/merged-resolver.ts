import { Event } from "../core/index.ts";
import { normalizeSet, sameSet } from "./endpoint.ts";
import type { ResolvedEndpoint, Resolver, ResolverErrorEvent, ResolverStats } from "./types.ts";

/**
 * Several sources as one: the union of their sets, one entry per "ip:port" (the first source
 * listing a key wins, so its weight and host name are used). This is how sources compose:
 * a static list is fixed addresses plus one resolve-once DNS source per host name.
 */
export class MergedResolver implements Resolver {
  readonly #sources: readonly Resolver[];
  readonly #name: string;
  readonly #changed = new Event<readonly ResolvedEndpoint[]>();
  readonly #errors = new Event<ResolverErrorEvent>();
  #current: readonly ResolvedEndpoint[];
  #unsubscribe: (() => void)[] = [];
  #running = false;

  constructor(sources: readonly Resolver[], name = "merged") {
    this.#sources = [...sources];
    this.#name = name;
    this.#current = this.#merge();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const s of this.#sources) {
      this.#unsubscribe.push(s.onChange(() => this.#recompute()), s.onError((e) => this.#errors.emit(e)));
    }
    for (const s of this.#sources) s.start();
    this.#recompute();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    for (const s of this.#sources) s.stop();
  }

  current(): readonly ResolvedEndpoint[] {
    return this.#current;
  }

  onChange(fn: (endpoints: readonly ResolvedEndpoint[]) => void): () => void {
    return this.#changed.on(fn);
  }

  onError(fn: (event: ResolverErrorEvent) => void): () => void {
    return this.#errors.on(fn);
  }

  refresh(): void {
    for (const s of this.#sources) s.refresh();
  }

  async ready(): Promise<void> {
    await Promise.all(this.#sources.map((s) => s.ready()));
  }

  stats(): ResolverStats {
    const sources = this.#sources.map((s) => s.stats());
    const times = (pick: (s: ResolverStats) => number | undefined) =>
      sources.map(pick).filter((t): t is number => t !== undefined);
    const last = (ts: number[]) => (ts.length === 0 ? undefined : Math.max(...ts));
    return {
      source: this.#name,
      running: this.#running,
      endpoints: this.#current.length,
      lookups: sources.reduce((n, s) => n + s.lookups, 0),
      failures: sources.reduce((n, s) => n + s.failures, 0),
      consecutiveFailures: Math.max(0, ...sources.map((s) => s.consecutiveFailures)),
      lastSuccessAt: last(times((s) => s.lastSuccessAt)),
      lastFailureAt: last(times((s) => s.lastFailureAt)),
      lastError: sources.find((s) => s.consecutiveFailures > 0)?.lastError,
      sources,
    };
  }

  #merge(): readonly ResolvedEndpoint[] {
    return normalizeSet(this.#sources.flatMap((s) => s.current()));
  }

  #recompute(): void {
    const next = this.#merge();
    if (sameSet(this.#current, next)) return;
    this.#current = next;
    this.#changed.emit(next);
  }
}
