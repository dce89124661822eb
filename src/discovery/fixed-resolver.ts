import type { ResolvedEndpoint, Resolver, ResolverErrorEvent, ResolverStats } from "./types.ts";
import { normalizeSet } from "./endpoint.ts";

/** A set that never changes (IP literals from config). */
export class FixedResolver implements Resolver {
  readonly #set: readonly ResolvedEndpoint[];
  readonly #name: string;
  #running = false;

  constructor(endpoints: Iterable<ResolvedEndpoint>, name = "static") {
    this.#set = normalizeSet(endpoints);
    this.#name = name;
  }

  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
  }

  current(): readonly ResolvedEndpoint[] {
    return this.#set;
  }

  onChange(_fn: (endpoints: readonly ResolvedEndpoint[]) => void): () => void {
    return () => {};
  }

  onError(_fn: (event: ResolverErrorEvent) => void): () => void {
    return () => {};
  }

  refresh(): void {}

  ready(): Promise<void> {
    return Promise.resolve();
  }

  stats(): ResolverStats {
    return {
      source: this.#name, running: this.#running, endpoints: this.#set.length, lookups: 0, failures: 0,
      consecutiveFailures: 0, lastSuccessAt: undefined, lastFailureAt: undefined, lastError: undefined,
    };
  }
}
