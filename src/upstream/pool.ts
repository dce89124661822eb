// Connections to one resolved endpoint (ip:port): min/max connections, per-connection concurrency,
// LIFO reuse of idle connections, idle timeout, warm-up, a bounded wait queue, and replacement of
// connections that drain (GOAWAY, crrst, max age). Design after undici's Pool and Kitex's long pool.
import { backoffDelay, Event, GatewayError, GrpcCode, Reason, type BackoffOptions } from "../core/index.ts";
import type { Connection, ConnectionState } from "./types.ts";

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
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  /** Delay before re-opening minConnections after connect failures (default RECONNECT_BACKOFF). */
  readonly reconnectBackoff?: BackoffOptions;
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
  readonly opened: number;
  readonly connectFailures: number;
  readonly details: ReturnType<Connection["stats"]>[];
}

interface Waiter {
  resolve: (c: Connection) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

let nextId = 1;

export class EndpointPool {
  readonly key: string;
  readonly onConnectFailure = new Event<GatewayError>();
  readonly #o: PoolOptions;
  #conns: Connection[] = [];
  /** Calls handed out per connection and not yet released: the pool's own count, so two acquirers
   *  never get the last slot of one connection between acquire() and the call starting. */
  #leased = new Map<Connection, number>();
  #waiters: Waiter[] = [];
  #opened = 0;
  #connectFailures = 0;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Connect failures in a row (reset by a successful connect); drives the reconnect back-off. */
  #failStreak = 0;
  /** Callers waiting for a connecting connection, per connection (at most its capacity). */
  #promised = new Map<Connection, number>();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: PoolOptions) {
    this.#o = o;
    this.key = o.key;
    if (o.idleTimeoutMs > 0) {
      this.#sweeper = setInterval(() => this.#sweepIdle(), Math.max(50, Math.min(o.idleTimeoutMs / 2, 5000)));
      (this.#sweeper as { unref?: () => void }).unref?.();
    }
  }

  get inFlight(): number {
    let n = 0;
    for (const v of this.#leased.values()) n += v;
    return n;
  }

  /**
   * Opens connections until n are live (default minConnections), one at a time: each dial gets the whole
   * connect timeout (a backend that accepts slowly times out the later dials of a burst, which is what
   * warm-up is there to avoid), and a failure ends the warm-up (re-dialling with back-off takes over) so
   * a dead endpoint costs at most one connect timeout. Resolves with the number opened.
   */
  async warmUp(n = this.#o.minConnections): Promise<number> {
    const target = Math.min(n, this.#o.maxConnections);
    let opened = 0;
    for (let i = 0; i < target && this.#live() < target && !this.#closed; i++) {
      try {
        await this.#open().ready;
        opened++;
      } catch {
        break;
      }
    }
    return opened;
  }

  /** A connection with room for one more call; the caller must call release(conn) after. */
  acquire(): Connection | Promise<Connection> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const c = this.#pick();
    if (c) return this.#lease(c);
    // A connection still connecting takes as many calls as it will have room for: a burst (cold start, or
    // every connection drained by GOAWAY at once) waits for it rather than dialling one connection per
    // waiting call (that dial storm made 60 connections to one endpoint, and GOAWAYs arrive all together).
    const pending = this.#connectingWithRoom() ?? (this.#live() < this.#o.maxConnections ? this.#open() : undefined);
    if (pending) return this.#whenReady(pending);
    if (this.#waiters.length >= this.#o.queueSize) {
      return Promise.reject(this.#exhausted(`queue of ${this.#o.queueSize} is full`));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(this.#exhausted(`waited ${this.#o.queueTimeoutMs} ms`));
        }, this.#o.queueTimeoutMs),
      };
      this.#waiters.push(w);
    });
  }

  #connectingWithRoom(): Connection | undefined {
    for (const c of this.#conns) if (c.state === "connecting" && (this.#promised.get(c) ?? 0) < this.#cap(c)) return c;
    return undefined;
  }

  #whenReady(conn: Connection): Promise<Connection> {
    this.#promised.set(conn, (this.#promised.get(conn) ?? 0) + 1);
    const settle = () => {
      const n = (this.#promised.get(conn) ?? 1) - 1;
      if (n > 0) this.#promised.set(conn, n);
      else this.#promised.delete(conn);
    };
    return conn.ready.then(
      () => {
        settle();
        if (conn.state === "ready" && this.#load(conn) < this.#cap(conn)) return this.#lease(conn);
        return this.acquire();
      },
      (e: unknown) => {
        settle();
        throw e;
      },
    );
  }

  release(conn: Connection): void {
    const n = (this.#leased.get(conn) ?? 1) - 1;
    if (n > 0) this.#leased.set(conn, n);
    else this.#leased.delete(conn);
    if (conn.state === "ready" && this.#waiters.length > 0 && this.#load(conn) < this.#cap(conn)) {
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve(this.#lease(conn));
      return;
    }
    if (this.#load(conn) === 0 && conn.state === "ready" && this.#idleCount() > this.#o.maxIdle && this.#live() > this.#o.minConnections) {
      conn.drain();
    }
  }

  #lease(c: Connection): Connection {
    this.#leased.set(c, (this.#leased.get(c) ?? 0) + 1);
    return c;
  }

  /** Calls on a connection: those leased by this pool, or more if the connection says so. */
  #load(c: Connection): number {
    return Math.max(c.active, this.#leased.get(c) ?? 0);
  }

  /** Stop using every connection: calls in flight finish, then they close. */
  drain(): void {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    clearTimeout(this.#reconnectTimer);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.#closedError());
    }
    for (const c of this.#conns) c.drain();
  }

  destroy(): void {
    this.drain();
    for (const c of this.#conns) c.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  stats(): PoolStats {
    const count = (s: ConnectionState) => this.#conns.filter((c) => c.state === s).length;
    return {
      key: this.key,
      connections: { ready: count("ready"), connecting: count("connecting"), draining: count("draining"), idle: this.#idleCount() },
      inFlight: this.inFlight,
      queued: this.#waiters.length,
      opened: this.#opened,
      connectFailures: this.#connectFailures,
      details: this.#conns.map((c) => c.stats()),
    };
  }

  #cap(c: Connection): number {
    return Math.min(c.capacity, this.#o.maxConcurrentPerConnection);
  }

  /** Least-loaded ready connection with room; ties go to the most recently used (LIFO keeps the idle set warm). */
  #pick(): Connection | undefined {
    let best: Connection | undefined;
    let bestLoad = Infinity;
    for (const c of this.#conns) {
      const load = this.#load(c);
      if (c.state !== "ready" || load >= this.#cap(c)) continue;
      if (!best || load < bestLoad || (load === bestLoad && c.lastUsedAt > best.lastUsedAt)) {
        best = c;
        bestLoad = load;
      }
    }
    return best;
  }

  #live(): number {
    let n = 0;
    for (const c of this.#conns) if (c.state === "ready" || c.state === "connecting") n++;
    return n;
  }

  #idleCount(): number {
    let n = 0;
    for (const c of this.#conns) if (c.state === "ready" && this.#load(c) === 0) n++;
    return n;
  }

  #open(): Connection {
    const conn = this.#o.create(nextId++);
    this.#opened++;
    this.#conns.push(conn);
    let connected = false;
    conn.onStateChange((s) => {
      if (s === "closed") {
        this.#conns = this.#conns.filter((c) => c !== conn);
        this.#leased.delete(conn);
      }
      if (s === "ready") this.#serveWaiters();
      // A draining or closed connection is replaced so the pool keeps its minimum (and waiters get served).
      // A failed connect is handled below, after the failure streak is counted.
      if ((s === "draining" || s === "closed") && connected && !this.#closed) this.#replenish();
    });
    conn.ready.then(
      () => {
        connected = true;
        this.#failStreak = 0;
      },
      (e: unknown) => {
        this.#failStreak++;
        this.#connectFailures++;
        this.onConnectFailure.emit(e as GatewayError);
        // Waiters can't be served by this one; fail them fast rather than letting them time out.
        if (this.#live() === 0) {
          for (const w of this.#waiters.splice(0)) {
            clearTimeout(w.timer);
            w.reject(e);
          }
        }
        if (!this.#closed) this.#replenish();
      },
    );
    return conn;
  }

  #replenish(): void {
    if (this.#failStreak > 0) {
      if (this.#reconnectTimer !== undefined) return;
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        if (!this.#closed) this.#openWanted();
      }, backoffDelay(this.#failStreak - 1, this.#o.reconnectBackoff ?? RECONNECT_BACKOFF));
      (this.#reconnectTimer as { unref?: () => void }).unref?.();
      return;
    }
    this.#openWanted();
  }

  #openWanted(): void {
    const wanted = Math.min(Math.max(this.#o.minConnections, this.#waiters.length > 0 ? 1 : 0), this.#o.maxConnections);
    for (let i = 0; i < wanted && this.#live() < wanted; i++) this.#open();
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const c = this.#pick();
      if (!c) return;
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve(this.#lease(c));
    }
  }

  #sweepIdle(): void {
    const now = Date.now();
    let live = this.#live();
    for (const c of [...this.#conns].sort((a, b) => a.lastUsedAt - b.lastUsedAt)) {
      if (live <= this.#o.minConnections) break;
      if (c.state === "ready" && this.#load(c) === 0 && now - c.lastUsedAt >= this.#o.idleTimeoutMs) {
        c.drain();
        live--;
      }
    }
  }

  #exhausted(why: string): GatewayError {
    return new GatewayError({
      code: GrpcCode.UNAVAILABLE,
      reason: Reason.poolExhausted,
      message: `all ${this.#o.maxConnections} connections to ${this.#o.upstream} (${this.key}) are busy; ${why}`,
      upstream: this.#o.upstream,
      endpoint: this.key,
    });
  }

  #closedError(): GatewayError {
    return new GatewayError({
      code: GrpcCode.UNAVAILABLE,
      reason: Reason.draining,
      message: `endpoint ${this.key} of ${this.#o.upstream} is draining`,
      upstream: this.#o.upstream,
      endpoint: this.key,
      neverSent: true,
    });
  }
}
