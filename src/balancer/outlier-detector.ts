import { FailureWindow } from "./failure-window.ts";
import type { FailureKind } from "./types.ts";

/**
 * Outlier ejection after Envoy's outlier detection and gRFC A50: an endpoint that keeps failing is
 * taken out of rotation for a while, longer each time it is ejected again, and never so many at
 * once that a total outage empties the pool (then failing everywhere beats failing nowhere).
 */
export interface OutlierOptions {
  /** Eject after this many connect failures in a row (a success resets the count). 0 disables. Default 5. */
  readonly consecutiveConnectFailures?: number;
  /** Eject when failures / calls in the window reach this fraction (0..1). 0 disables. Default 0.5. */
  readonly failureRateThreshold?: number;
  /** ... but only with at least this many calls in the window. Default 20. */
  readonly failureRateMinRequests?: number;
  /** The failure-rate window. Default 10s. */
  readonly failureRateWindowMs?: number;
  /**
   * First ejection lasts this long; each further one lasts one base longer (base * n, capped at
   * maxEjectionMs). The multiplier n drops by one for every base period spent back in rotation.
   * Default 30s.
   */
  readonly baseEjectionMs?: number;
  /** Longest ejection. Default 300s. */
  readonly maxEjectionMs?: number;
  /**
   * At most this share of endpoints ejected at once (rounded down, but at least one when there are
   * two or more, and never the last one). 0 disables ejection. Default 50.
   */
  readonly maxEjectionPercent?: number;
}

export type EjectionReason = "consecutive_connect_failures" | "failure_rate";

export interface EndpointHealthStats {
  readonly ejected: boolean;
  readonly ejectedUntil: number | undefined;
  readonly lastEjectionReason: EjectionReason | undefined;
  /** Ejections so far (lifetime of this key in the list). */
  readonly ejections: number;
  /** Multiplier the next ejection would start from (decays while healthy). */
  readonly ejectionMultiplier: number;
  readonly consecutiveConnectFailures: number;
  readonly windowSuccesses: number;
  readonly windowFailures: number;
}

export type OutlierEvent =
  | { readonly type: "ejected"; readonly key: string; readonly reason: EjectionReason; readonly durationMs: number; readonly multiplier: number }
  | { readonly type: "returned"; readonly key: string }
  | { readonly type: "ejection_skipped"; readonly key: string; readonly reason: EjectionReason; readonly ejected: number; readonly maxEjected: number };

interface Health {
  consecutiveConnect: number;
  window: FailureWindow;
  ejectedUntil: number | undefined;
  lastReason: EjectionReason | undefined;
  ejections: number;
  multiplier: number;
  returnedAt: number | undefined;
}

export class OutlierDetector {
  readonly #consecutive: number;
  readonly #rate: number;
  readonly #minRequests: number;
  readonly #windowMs: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxPercent: number;
  readonly #health = new Map<string, Health>();
  #skipped = 0;

  constructor(o: OutlierOptions = {}) {
    this.#consecutive = o.consecutiveConnectFailures ?? 5;
    this.#rate = o.failureRateThreshold ?? 0.5;
    this.#minRequests = Math.max(1, o.failureRateMinRequests ?? 20);
    this.#windowMs = o.failureRateWindowMs ?? 10_000;
    this.#baseMs = o.baseEjectionMs ?? 30_000;
    this.#maxMs = Math.max(this.#baseMs, o.maxEjectionMs ?? 300_000);
    this.#maxPercent = o.maxEjectionPercent ?? 50;
  }

  /** Tracks exactly these keys: new ones start healthy, removed ones are forgotten. */
  sync(keys: readonly string[]): void {
    const keep = new Set(keys);
    for (const k of this.#health.keys()) if (!keep.has(k)) this.#health.delete(k);
    for (const k of keys) {
      if (!this.#health.has(k)) {
        this.#health.set(k, {
          consecutiveConnect: 0, window: new FailureWindow(this.#windowMs), ejectedUntil: undefined,
          lastReason: undefined, ejections: 0, multiplier: 0, returnedAt: undefined,
        });
      }
    }
  }

  isEjected(key: string): boolean {
    return this.#health.get(key)?.ejectedUntil !== undefined;
  }

  /** Earliest time an ejection ends, if any. */
  nextReturnAt(): number | undefined {
    let next: number | undefined;
    for (const h of this.#health.values()) {
      if (h.ejectedUntil !== undefined && (next === undefined || h.ejectedUntil < next)) next = h.ejectedUntil;
    }
    return next;
  }

  /** Ends the ejections due by `now`. Returns the keys back in rotation. */
  returnDue(now: number): string[] {
    const back: string[] = [];
    for (const [key, h] of this.#health) {
      if (h.ejectedUntil !== undefined && h.ejectedUntil <= now) {
        h.returnedAt = h.ejectedUntil;
        h.ejectedUntil = undefined;
        // A fresh start: old failures must not eject it again on its first error.
        h.consecutiveConnect = 0;
        h.window.reset();
        back.push(key);
      }
    }
    return back;
  }

  recordSuccess(key: string, now: number): void {
    const h = this.#health.get(key);
    if (!h || h.ejectedUntil !== undefined) return;
    h.consecutiveConnect = 0;
    h.window.add(true, now);
  }

  /** Records a failure; returns the resulting event when it led to an ejection (or one was refused). */
  recordFailure(key: string, kind: FailureKind, now: number): OutlierEvent | undefined {
    const h = this.#health.get(key);
    if (!h || h.ejectedUntil !== undefined) return undefined;
    if (kind === "connect") h.consecutiveConnect++;
    h.window.add(false, now);
    let reason: EjectionReason | undefined;
    if (this.#consecutive > 0 && h.consecutiveConnect >= this.#consecutive) reason = "consecutive_connect_failures";
    else if (this.#rate > 0) {
      const { successes, failures } = h.window.counts(now);
      const total = successes + failures;
      if (total >= this.#minRequests && failures / total >= this.#rate) reason = "failure_rate";
    }
    return reason === undefined ? undefined : this.#eject(key, h, reason, now);
  }

  maxEjected(): number {
    const n = this.#health.size;
    if (this.#maxPercent <= 0 || n < 2) return 0;
    return Math.min(n - 1, Math.max(1, Math.floor((n * this.#maxPercent) / 100)));
  }

  ejectedCount(): number {
    let n = 0;
    for (const h of this.#health.values()) if (h.ejectedUntil !== undefined) n++;
    return n;
  }

  get skippedEjections(): number {
    return this.#skipped;
  }

  stats(key: string, now: number): EndpointHealthStats | undefined {
    const h = this.#health.get(key);
    if (!h) return undefined;
    const { successes, failures } = h.window.counts(now);
    return {
      ejected: h.ejectedUntil !== undefined,
      ejectedUntil: h.ejectedUntil,
      lastEjectionReason: h.lastReason,
      ejections: h.ejections,
      ejectionMultiplier: h.ejectedUntil === undefined ? this.#decayed(h, now) : h.multiplier,
      consecutiveConnectFailures: h.consecutiveConnect,
      windowSuccesses: successes,
      windowFailures: failures,
    };
  }

  /** The multiplier lost one step for every base period spent back in rotation. */
  #decayed(h: Health, now: number): number {
    if (h.returnedAt === undefined) return h.multiplier;
    return Math.max(0, h.multiplier - Math.floor((now - h.returnedAt) / this.#baseMs));
  }

  #eject(key: string, h: Health, reason: EjectionReason, now: number): OutlierEvent {
    const ejected = this.ejectedCount();
    const maxEjected = this.maxEjected();
    if (ejected >= maxEjected) {
      this.#skipped++;
      return { type: "ejection_skipped", key, reason, ejected, maxEjected };
    }
    h.multiplier = Math.min(this.#decayed(h, now) + 1, Math.ceil(this.#maxMs / this.#baseMs));
    h.returnedAt = undefined;
    const durationMs = Math.min(this.#maxMs, this.#baseMs * h.multiplier);
    h.ejectedUntil = now + durationMs;
    h.lastReason = reason;
    h.ejections++;
    return { type: "ejected", key, reason, durationMs, multiplier: h.multiplier };
  }
}
