// Connections to one resolved endpoint (ip:port): min/max connections, per-connection concurrency,
// LIFO reuse of idle connections, idle timeout, warm-up, a bounded wait queue, replacement of
// connections that drain (GOAWAY, crrst), and max-age rotation (pool-age.ts, open-before-retire).
// Design after undici's Pool and Kitex's long pool.
import { backoffDelay, Event, GatewayError, GrpcCode, Reason } from "../core/index.ts";
import { AgeRotation } from "./pool-age.ts";
import { RECONNECT_BACKOFF, type PoolOptions, type PoolStats } from "./pool-options.ts";
import type { Connection, ConnectionState } from "./types.ts";

export { RECONNECT_BACKOFF, type PoolOptions, type PoolStats } from "./pool-options.ts";
export { IdleLedger } from "./idle-ledger.ts";

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
  #connected = 0;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Connect failures in a row (reset by a successful connect); drives the reconnect back-off. */
  #failStreak = 0;
  /** Callers waiting for a connecting connection, per connection (at most its capacity). */
  #promised = new Map<Connection, number>();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #age: AgeRotation;

  constructor(o: PoolOptions) {
    this.#o = o;
    this.key = o.key;
    this.#age = new AgeRotation(
      { maxAgeMs: o.maxAgeMs ?? 0, jitter: o.maxAgeJitter },
      {
        open: () => this.#open(),
        load: (c) => this.#load(c),
        capacity: (c) => this.#cap(c),
        connections: () => this.#conns,
        minConnections: o.minConnections,
        retryDelayMs: () => this.#backoffMs(),
        closed: () => this.#closed,
      },
    );
    o.idleLedger?.register(this, () => this.#idleCount());
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
    if (this.#usable(conn) && this.#waiters.length > 0 && this.#load(conn) < this.#cap(conn)) {
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      w.resolve(this.#lease(conn));
      return;
    }
    this.#age.released(conn);
    if (this.#load(conn) === 0 && conn.state === "ready" && this.#live() > this.#o.minConnections && (this.#idleCount() > this.#o.maxIdle || this.#o.idleLedger?.over())) {
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
    this.#o.idleLedger?.forget(this);
    if (this.#sweeper) clearInterval(this.#sweeper);
    clearTimeout(this.#reconnectTimer);
    this.#age.stop();
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
      connected: this.#connected,
      age: this.#age.stats(),
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
      if (!this.#usable(c) || load >= this.#cap(c)) continue;
      if (!best || load < bestLoad || (load === bestLoad && c.lastUsedAt > best.lastUsedAt)) {
        best = c;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Ready and allowed to take another call (a one-call connection past its max age is not reused). */
  #usable(c: Connection): boolean {
    return c.state === "ready" && this.#age.reusable(c);
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
        this.#connected++;
        this.#failStreak = 0;
        this.#age.track(conn);
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
      }, this.#backoffMs());
      (this.#reconnectTimer as { unref?: () => void }).unref?.();
      return;
    }
    this.#openWanted();
  }

  #backoffMs(): number {
    return backoffDelay(Math.max(0, this.#failStreak - 1), this.#o.reconnectBackoff ?? RECONNECT_BACKOFF);
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
