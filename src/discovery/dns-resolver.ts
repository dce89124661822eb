import { backoffDelay, Event, type BackoffOptions } from "../core/index.ts";
import { endpointKey, makeEndpoint, normalizeSet, parseWeight, sameSet } from "./endpoint.ts";
import { systemTimers, type Timers } from "./timers.ts";
import type {
  LookupAddress, LookupFn, ResolvedEndpoint, Resolver, ResolverErrorEvent, ResolverErrorKind, ResolverStats,
} from "./types.ts";

export interface DnsResolverOptions {
  readonly host: string;
  readonly port: number;
  /** Usually the runtime's resolveDns. */
  readonly lookup: LookupFn;
  /** Weight given to every resolved address. Default 1. */
  readonly weight?: number;
  /**
   * Re-resolve at least this often after a good answer; a shorter record TTL brings the next lookup
   * forward (down to minTtlMs). Infinity: resolve once, TTLs ignored (failures still retry). Default 30s.
   */
  readonly refreshMs?: number;
  /**
   * Floor for TTL-driven refreshes: a TTL of 0 or 1 s must not turn into a lookup storm. Like Envoy's
   * dns_min_refresh_rate (default 5 s) under respect_dns_ttl. Default 5s.
   */
  readonly minTtlMs?: number;
  /** No two lookups start closer together than this, whatever asks for them. Default 2s. */
  readonly minRefreshMs?: number;
  /** Retry schedule after failures. Default 1s doubling to 30s, 20% jitter. */
  readonly backoff?: BackoffOptions;
  /** A lookup slower than this counts as failed (a hung resolver must not freeze the set forever). Default 5s. */
  readonly lookupTimeoutMs?: number;
  /** Keep the last good set when a lookup fails. Default true; false publishes an empty set. */
  readonly keepLastGoodOnError?: boolean;
  /** Treat an empty answer as a failure and keep the last good set. Default true; false publishes it. */
  readonly keepLastGoodOnEmpty?: boolean;
  /** Only use addresses of this family. Default: both. */
  readonly family?: 4 | 6;
  readonly timers?: Timers;
  /** For jitter; injectable for tests. */
  readonly random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/**
 * One DNS name -> the set of "ip:port" endpoints, refreshed periodically. One lookup at a time;
 * a generation counter makes answers that arrive after stop() (or a restart) harmless.
 *
 * When the lookup reports record TTLs (the runtime's resolveDns does for real DNS answers), the next
 * lookup is due when the shortest TTL expires, clamped to [minTtlMs, refreshMs]: a record that may
 * change every few seconds is followed that closely (never more often than minTtlMs), a one-hour
 * TTL still gets re-checked every refreshMs (clients that cache for the full TTL miss scale-outs).
 * Answers without TTL (hosts file, getaddrinfo fallback, injected lookups) keep the fixed refreshMs.
 */
export class DnsResolver implements Resolver {
  readonly #o: Required<Omit<DnsResolverOptions, "family">> & { family: 4 | 6 | undefined };
  readonly #source: string;
  readonly #changed = new Event<readonly ResolvedEndpoint[]>();
  readonly #errors = new Event<ResolverErrorEvent>();
  #current: readonly ResolvedEndpoint[] = Object.freeze([]);
  #running = false;
  #generation = 0;
  #inflight = false;
  #timer: unknown;
  #lookupTimer: unknown;
  #nextAt: number | undefined;
  #lastLookupAt: number | undefined;
  #consecutiveFailures = 0;
  #lookups = 0;
  #failures = 0;
  #lastSuccessAt: number | undefined;
  #lastFailureAt: number | undefined;
  #lastError: string | undefined;
  #ttl: number | undefined;
  #refreshInMs: number | undefined;
  #answered = false;
  #ready: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(options: DnsResolverOptions) {
    const port = options.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`dns resolver "${options.host}": bad port ${port}`);
    if (options.host === "") throw new RangeError("dns resolver: empty host");
    this.#o = {
      host: options.host,
      port,
      lookup: options.lookup,
      weight: parseWeight(options.weight, options.host),
      refreshMs: options.refreshMs ?? 30_000,
      minTtlMs: options.minTtlMs ?? 5_000,
      minRefreshMs: options.minRefreshMs ?? 2_000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      lookupTimeoutMs: options.lookupTimeoutMs ?? 5_000,
      keepLastGoodOnError: options.keepLastGoodOnError ?? true,
      keepLastGoodOnEmpty: options.keepLastGoodOnEmpty ?? true,
      family: options.family,
      timers: options.timers ?? systemTimers,
      random: options.random ?? Math.random,
    };
    this.#source = `dns:${endpointKey(options.host, port)}`;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#generation++;
    this.#schedule(0);
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    this.#inflight = false;
    this.#clearTimer();
    this.#clearLookupTimer();
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

  /**
   * Brings the next lookup forward (never closer than minRefreshMs to the last). No effect while
   * backing off, nor once a resolve-once source (refreshMs: Infinity) has its answer.
   */
  refresh(): void {
    if (!this.#running || this.#inflight || this.#consecutiveFailures > 0) return;
    if (this.#answered && !Number.isFinite(this.#o.refreshMs)) return;
    this.#schedule(0);
  }

  ready(): Promise<void> {
    if (this.#answered) return Promise.resolve();
    if (!this.#ready) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#ready = { promise, resolve };
    }
    return this.#ready.promise;
  }

  stats(): ResolverStats {
    return {
      source: this.#source,
      running: this.#running,
      endpoints: this.#current.length,
      lookups: this.#lookups,
      failures: this.#failures,
      consecutiveFailures: this.#consecutiveFailures,
      lastSuccessAt: this.#lastSuccessAt,
      lastFailureAt: this.#lastFailureAt,
      lastError: this.#lastError,
      ttl: this.#ttl,
      refreshInMs: this.#refreshInMs,
    };
  }

  /** Schedules the next lookup in `ms`, respecting minRefreshMs; an earlier pending lookup wins. */
  #schedule(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const t = this.#o.timers;
    const now = t.now();
    const earliest = this.#lastLookupAt === undefined ? now : this.#lastLookupAt + this.#o.minRefreshMs;
    const at = Math.max(now + ms, earliest);
    if (this.#nextAt !== undefined && this.#nextAt <= at) return;
    this.#clearTimer();
    this.#nextAt = at;
    const gen = this.#generation;
    this.#timer = t.set(() => {
      this.#timer = undefined;
      this.#nextAt = undefined;
      if (gen === this.#generation) this.#lookup();
    }, at - now);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.timers.clear(this.#timer);
    this.#timer = undefined;
    this.#nextAt = undefined;
  }

  #clearLookupTimer(): void {
    if (this.#lookupTimer !== undefined) this.#o.timers.clear(this.#lookupTimer);
    this.#lookupTimer = undefined;
  }

  #lookup(): void {
    if (!this.#running || this.#inflight) return;
    const gen = this.#generation;
    const t = this.#o.timers;
    this.#inflight = true;
    this.#lastLookupAt = t.now();
    this.#lookups++;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (gen !== this.#generation) return;
      this.#clearLookupTimer();
      this.#inflight = false;
      fn();
    };
    this.#lookupTimer = t.set(
      () => settle(() => this.#failed("lookup_timeout", new Error(`lookup of ${this.#o.host} timed out after ${this.#o.lookupTimeoutMs}ms`))),
      this.#o.lookupTimeoutMs,
    );
    let answer: Promise<readonly LookupAddress[]>;
    try {
      answer = Promise.resolve(this.#o.lookup(this.#o.host));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (addresses) => settle(() => this.#answer(addresses)),
      (e: unknown) => settle(() => this.#failed("lookup_failed", e)),
    );
  }

  #answer(addresses: readonly LookupAddress[]): void {
    const { family, port, weight, host } = this.#o;
    const used = addresses.filter((a) => family === undefined || a.family === family);
    const set = normalizeSet(used.map((a) => makeEndpoint(a.address, port, weight, host)));
    if (set.length === 0 && this.#o.keepLastGoodOnEmpty) {
      this.#failed("empty_answer", undefined);
      return;
    }
    this.#consecutiveFailures = 0;
    this.#lastSuccessAt = this.#o.timers.now();
    this.#publish(set);
    this.#answered = true;
    this.#ready?.resolve();
    this.#ttl = shortestTtl(used);
    this.#refreshInMs = this.#nextRefreshMs(this.#ttl);
    this.#schedule(this.#refreshInMs);
  }

  /** clamp(ttl, minTtlMs, refreshMs); the fixed refreshMs without a TTL or for resolve-once sources. */
  #nextRefreshMs(ttlSec: number | undefined): number {
    const { refreshMs, minTtlMs } = this.#o;
    if (ttlSec === undefined || !Number.isFinite(refreshMs)) return refreshMs;
    return Math.min(refreshMs, Math.max(minTtlMs, ttlSec * 1000));
  }

  #failed(kind: ResolverErrorKind, cause: unknown): void {
    this.#consecutiveFailures++;
    this.#failures++;
    this.#lastFailureAt = this.#o.timers.now();
    this.#lastError = kind === "empty_answer" ? "empty answer" : cause instanceof Error ? cause.message : String(cause);
    const keep = kind === "empty_answer" ? this.#o.keepLastGoodOnEmpty : this.#o.keepLastGoodOnError;
    if (!keep) this.#publish(Object.freeze([]));
    const retryInMs = Math.max(this.#o.minRefreshMs, backoffDelay(this.#consecutiveFailures - 1, this.#o.backoff, this.#o.random));
    this.#schedule(retryInMs);
    this.#errors.emit({
      source: this.#source, kind, cause, consecutiveFailures: this.#consecutiveFailures, keptLastGood: keep, retryInMs,
    });
  }

  #publish(set: readonly ResolvedEndpoint[]): void {
    if (sameSet(this.#current, set)) return;
    this.#current = set;
    this.#changed.emit(set);
  }
}

/** The smallest TTL among the records used (seconds), or undefined when any of them has none. */
function shortestTtl(addresses: readonly LookupAddress[]): number | undefined {
  let min: number | undefined;
  for (const a of addresses) {
    if (a.ttl === undefined || !Number.isFinite(a.ttl) || a.ttl < 0) return undefined;
    min = min === undefined ? a.ttl : Math.min(min, a.ttl);
  }
  return min;
}
