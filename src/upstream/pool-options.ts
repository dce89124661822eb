// EndpointPool's options and stats snapshot.
import type { BackoffOptions } from "../core/index.ts";
import type { AgeStats } from "./pool-age.ts";
import type { IdleLedger } from "./idle-ledger.ts";
import type { Connection } from "./types.ts";

export interface PoolOptions {
  /** The resolved address this pool serves, "ip:port". */
  readonly key: string;
  readonly upstream: string;
  readonly create: (id: number) => Connection;
  /** Kept open (and opened at warm-up). */
  readonly minConnections: number;
  readonly maxConnections: number;
  /** Cap on calls per connection, below the connection's own capacity (MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentPerConnection: number;
  /** Idle connections above minConnections close after this long unused (0 = never). */
  readonly idleTimeoutMs: number;
  /** Idle (no call in flight) connections kept; more are closed on release (Kitex maxIdlePerAddress). */
  readonly maxIdle: number;
  /** Shared by the pools of one upstream: a cap on their idle connections together (Kitex maxIdleGlobal). */
  readonly idleLedger?: IdleLedger;
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  /** Delay before re-opening minConnections after connect failures (default RECONNECT_BACKOFF). */
  readonly reconnectBackoff?: BackoffOptions;
  /**
   * Retire connections this long after they became ready, jittered by +/- maxAgeJitter (0 or absent = never).
   * Multiplexed ones are replaced open-before-retire; pool-mode ones are not reused (see pool-age.ts).
   */
  readonly maxAgeMs?: number;
  /** Fraction of maxAgeMs (default MAX_AGE_JITTER, 0.1). */
  readonly maxAgeJitter?: number;
}

/**
 * Re-opening kept connections after connect failures backs off (grpc/doc/connection-backoff.md:
 * multiplier 1.6, jitter 0.2; a shorter start and cap here because calls fail over to other endpoints).
 * Without it a dead endpoint with minConnections > 0 was re-dialled in a tight loop (thousands per second).
 */
export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000, multiplier: 1.6, jitter: 0.2 };

export interface PoolStats {
  readonly key: string;
  readonly connections: { readonly ready: number; readonly connecting: number; readonly draining: number; readonly idle: number };
  readonly inFlight: number;
  readonly queued: number;
  /** Dials started / failed / succeeded. */
  readonly opened: number;
  readonly connectFailures: number;
  readonly connected: number;
  /** Max-age rotation: connections past their age still open, a replacement being dialled, retired so far. */
  readonly age: AgeStats;
  readonly details: ReturnType<Connection["stats"]>[];
}
