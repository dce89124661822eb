// Maximum connection age for EndpointPool, one implementation for every protocol (gRPC sessions,
// TTHeader mux and pingpong connections). Long-lived multiplexed connections pin their calls to the
// instances that existed when they were opened; recycling them after a (jittered) age lets a scale-out
// behind one address (an L4 balancer, a virtual IP) receive traffic.
//
// - Multiplexed connections (capacity > 1) are replaced open-before-retire: a replacement is dialled
//   first and the old connection drains only once the replacement is ready. A failed replacement
//   leaves the old one serving and is re-tried after the pool's reconnect back-off. At most one
//   replacement per pool (= per endpoint) is in progress, so aged connections rotate one by one.
// - One-call-per-connection (pool mode) connections past their age are never reused: an idle one is
//   closed at once, a busy one when its call ends; the pool re-opens its minimum as for any other close.
import { jittered } from "../core/index.ts";
import type { Connection } from "./types.ts";

/** Max age is jittered by +/- this fraction so connections opened together (warm-up) don't expire together. */
export const MAX_AGE_JITTER = 0.1;

/** What the rotation needs from its pool. */
export interface AgeRotationHost {
  /** Dials one more connection into the pool (the replacement). */
  open(): Connection;
  /** Calls on c: leased by the pool or in flight. */
  load(c: Connection): number;
  /** Calls c takes at once as the pool uses it; 1 means one call per connection (pool mode). */
  capacity(c: Connection): number;
  /** The pool's connections, any state. */
  connections(): readonly Connection[];
  readonly minConnections: number;
  /** Wait before re-trying a replacement that failed to connect (the pool's reconnect back-off). */
  retryDelayMs(): number;
  closed(): boolean;
}

export interface AgeRotationOptions {
  /** 0 = connections never age out. Counted from the moment a connection became ready. */
  readonly maxAgeMs: number;
  /** Default MAX_AGE_JITTER. */
  readonly jitter?: number;
}

export interface AgeStats {
  /** Connections past their age and still open for calls (waiting for a replacement or for their call to end). */
  readonly aged: number;
  /** A replacement for an aged connection is being dialled. */
  readonly replacing: boolean;
  /** Connections retired because of their age, since the pool started. */
  readonly retiredByAge: number;
}

export class AgeRotation {
  readonly #o: AgeRotationOptions;
  readonly #host: AgeRotationHost;
  #timers = new Map<Connection, ReturnType<typeof setTimeout>>();
  #aged = new Set<Connection>();
  /** Aged multiplexed connections waiting for their turn to be replaced, oldest first. */
  #queue: Connection[] = [];
  #replacement: Connection | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retired = 0;

  constructor(o: AgeRotationOptions, host: AgeRotationHost) {
    this.#o = o;
    this.#host = host;
  }

  get enabled(): boolean {
    return this.#o.maxAgeMs > 0;
  }

  /** Starts c's age clock; call when c became ready. */
  track(c: Connection): void {
    if (!this.enabled || c.state !== "ready") return;
    const t = setTimeout(() => this.#expire(c), jittered(this.#o.maxAgeMs, this.#o.jitter ?? MAX_AGE_JITTER));
    (t as { unref?: () => void }).unref?.();
    this.#timers.set(c, t);
    const off = c.onStateChange((s) => {
      if (s === "ready") return;
      // Draining for any reason (GOAWAY, crrst, idle, retired here) or closed: nothing left to rotate.
      clearTimeout(this.#timers.get(c));
      this.#timers.delete(c);
      this.#aged.delete(c);
      this.#queue = this.#queue.filter((x) => x !== c);
      off();
    });
  }

  /** False for a one-call-per-connection connection past its age: the pool must not hand it out again. */
  reusable(c: Connection): boolean {
    return !(this.#aged.has(c) && this.#host.capacity(c) <= 1);
  }

  /** The pool released a call on c: an aged one-call connection closes once it has none left. */
  released(c: Connection): void {
    if (this.#aged.has(c) && this.#host.capacity(c) <= 1 && this.#host.load(c) === 0) this.#retire(c);
  }

  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#queue = [];
    this.#aged.clear();
  }

  stats(): AgeStats {
    return { aged: this.#aged.size, replacing: this.#replacement !== undefined, retiredByAge: this.#retired };
  }

  #expire(c: Connection): void {
    this.#timers.delete(c);
    if (c.state !== "ready" || this.#host.closed()) return;
    this.#aged.add(c);
    if (this.#host.capacity(c) <= 1) {
      if (this.#host.load(c) === 0) this.#retire(c);
      return;
    }
    this.#queue.push(c);
    this.#next();
  }

  /** Replaces the oldest queued connection, one at a time. */
  #next(): void {
    if (this.#replacement || this.#retry !== undefined || this.#host.closed()) return;
    let old: Connection | undefined;
    while ((old = this.#queue[0])) {
      if (old.state !== "ready") this.#queue.shift();
      else if (!this.#needsReplacement(old)) {
        this.#queue.shift();
        this.#retire(old);
      } else break;
    }
    if (!old) return;
    const target = old;
    const replacement = this.#host.open();
    this.#replacement = replacement;
    replacement.ready.then(
      () => {
        this.#replacement = undefined;
        this.#queue = this.#queue.filter((x) => x !== target);
        if (target.state === "ready") this.#retire(target);
        this.#next();
      },
      () => {
        // The old connection keeps serving; try again after the pool's back-off.
        this.#replacement = undefined;
        if (this.#host.closed()) return;
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#next();
        }, this.#host.retryDelayMs());
        (this.#retry as { unref?: () => void }).unref?.();
      },
    );
  }

  /**
   * Whether retiring c now would leave the pool short: below its minimum, or with no connection for the
   * calls c is carrying. Aged connections don't count (they are on their way out); one being dialled does.
   */
  #needsReplacement(c: Connection): boolean {
    let fresh = 0;
    for (const x of this.#host.connections()) {
      if (x !== c && (x.state === "ready" || x.state === "connecting") && !this.#aged.has(x)) fresh++;
    }
    return fresh < Math.max(this.#host.minConnections, this.#host.load(c) > 0 ? 1 : 0);
  }

  /** Drain: no new calls, calls in flight finish, then it closes (the pool re-opens its minimum if needed). */
  #retire(c: Connection): void {
    this.#retired++;
    c.drain();
  }
}
