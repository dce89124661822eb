// An upstream: its resolved endpoints (from discovery), one pool per endpoint keyed by the resolved
// ip:port (never by host name), a balancer picking among them with outlier ejection, warm-up of new
// addresses, draining of removed ones, and the one transparent retry of a call (unary or streaming)
// that was never sent.
import { createBalancer, type Balancer, type BalancerKind, type BalancerStats, type EndpointHandle, type OutlierOptions } from "../balancer/index.ts";
import { Event, GatewayError, GrpcCode, toGatewayError } from "../core/index.ts";
import type { ResolvedEndpoint, Resolver, ResolverStats } from "../discovery/index.ts";
import { EndpointPool, type CallOptions, type Connection, type EndpointAddress, type PoolOptions, type PoolStats, type StreamReply, type UnaryReply } from "../upstream/index.ts";
import { ReplayableRequests } from "./replayable-requests.ts";
import { joinAttempts, REPLAY_LIMIT_BYTES, type StreamAttempt } from "./stream-attempts.ts";

export interface UpstreamGroupOptions {
  readonly name: string;
  readonly protocol: string;
  readonly createConnection: (address: EndpointAddress, id: number) => Connection;
  readonly pool: Omit<PoolOptions, "key" | "upstream" | "create">;
  readonly balancer?: BalancerKind;
  readonly outlier?: OutlierOptions | false;
  /** Metadata key whose value is the consistent-hash key (ring_hash). */
  readonly hashKey?: string;
  /** Connections opened per endpoint before it takes traffic (and when an address appears). */
  readonly warmupConnections?: number;
  /** Longest a new address waits for its warm-up before it takes traffic anyway (the connect timeout). */
  readonly warmupTimeoutMs?: number;
}

/** The default connect timeout (config defaults). */
const DEFAULT_WARMUP_TIMEOUT_MS = 3_000;

/** What the policies above hand each attempt: endpoints to avoid and where to record the one used. */
export interface AttemptHints {
  readonly excluded?: ReadonlySet<string>;
  markEndpoint?(key: string): void;
  /** Retry a never-sent failure once here (when no retry policy above will). */
  readonly transparentRetry?: boolean;
}

export interface CallOutcome {
  readonly upstream: string;
  readonly endpoint: string;
  readonly error?: GatewayError;
}

const NONE: ReadonlySet<string> = new Set();

interface PoolHandle extends EndpointHandle {
  readonly pool: EndpointPool;
  /** Its connections not closed yet. */
  readonly conns: ReadonlySet<Connection>;
  /** May take traffic: warmed up (or warm-up over), or one of the first endpoints. */
  warm: boolean;
  weight: number;
}

/** Errors that blame the endpoint (for outlier ejection); business and client errors don't. */
function blamesEndpoint(e: GatewayError): "connect" | "call" | undefined {
  if (e.reason === "upstream_connect_failed" || e.reason === "upstream_connect_timeout") return "connect";
  if (e.biz) return undefined;
  if (e.code === GrpcCode.UNAVAILABLE || e.code === GrpcCode.INTERNAL || e.code === GrpcCode.UNKNOWN || e.code === GrpcCode.DEADLINE_EXCEEDED) return "call";
  return undefined;
}

export class UpstreamGroup {
  readonly name: string;
  readonly protocol: string;
  /** Every finished attempt (for metrics). */
  readonly onOutcome = new Event<CallOutcome>();
  readonly #o: UpstreamGroupOptions;
  readonly #balancer: Balancer<PoolHandle>;
  #handles = new Map<string, PoolHandle>();
  #draining = new Set<EndpointPool>();
  #resolver: Resolver | undefined;
  #unsubscribe: (() => void) | undefined;
  #warming = new Set<Promise<unknown>>();
  /** A first endpoint list was applied: addresses that appear from now on wait for their warm-up. */
  #seeded = false;

  constructor(o: UpstreamGroupOptions, resolver?: Resolver) {
    this.name = o.name;
    this.protocol = o.protocol;
    this.#o = o;
    this.#balancer = createBalancer<PoolHandle>(o.balancer ?? "round_robin", { upstream: o.name, outlier: o.outlier });
    if (resolver) {
      this.#resolver = resolver;
      this.#unsubscribe = resolver.onChange((eps) => this.setEndpoints(eps));
      resolver.start();
      this.setEndpoints(resolver.current());
    }
  }

  /**
   * Removed addresses drain (calls in flight finish). The first endpoints take traffic at once (readiness
   * waits for their warm-up); an address that appears later joins the balancer only once its warm-up
   * connections are open (or failed: ejection handles it; or warmupTimeoutMs passed), unless no endpoint
   * of the new set is ready, when waiting would only stall calls.
   */
  setEndpoints(endpoints: readonly ResolvedEndpoint[]): void {
    const next = new Map<string, PoolHandle>();
    for (const e of endpoints) {
      let h = this.#handles.get(e.key);
      if (!h) {
        const address = { host: e.address, port: e.port };
        // The pool's connections, watched so that a drained pool is forgotten once the last one closes.
        const conns = new Set<Connection>();
        const create = (id: number): Connection => {
          const c = this.#o.createConnection(address, id);
          conns.add(c);
          const closed = () => {
            off();
            conns.delete(c);
            if (pool.closed && conns.size === 0) this.#draining.delete(pool);
          };
          const off = c.onStateChange((state) => {
            if (state === "closed") closed();
          });
          if (c.state === "closed") closed();
          return c;
        };
        const pool: EndpointPool = new EndpointPool({ ...this.#o.pool, key: e.key, upstream: this.name, create });
        pool.onConnectFailure.on(() => this.#balancer.recordFailure(e.key, "connect"));
        const handle: PoolHandle = { key: e.key, weight: e.weight, inflight: () => pool.inFlight, pool, conns, warm: !this.#seeded };
        const warm = this.#o.warmupConnections ?? this.#o.pool.minConnections;
        if (warm > 0) {
          const warming = pool.warmUp(warm);
          this.#track(warming);
          if (!handle.warm) void settledWithin(warming, this.#o.warmupTimeoutMs ?? DEFAULT_WARMUP_TIMEOUT_MS).then(() => this.#admit(handle));
        } else handle.warm = true;
        h = handle;
      }
      h.weight = e.weight;
      next.set(e.key, h);
    }
    for (const [key, h] of this.#handles) {
      if (!next.has(key)) {
        h.pool.drain();
        if (h.conns.size > 0) this.#draining.add(h.pool);
      }
    }
    this.#handles = next;
    if (next.size > 0) this.#seeded = true;
    this.#publish();
  }

  /** The balancer gets the warmed-up endpoints (all of them when none is warm yet). */
  #publish(): void {
    const all = [...this.#handles.values()];
    const warm = all.filter((h) => h.warm);
    this.#balancer.setEndpoints(warm.length > 0 ? warm : all);
  }

  #admit(h: PoolHandle): void {
    h.warm = true;
    if (this.#handles.get(h.key) === h && !h.pool.closed) this.#publish();
  }

  /** Pools of removed endpoints whose connections are still closing (forgotten when the last one closes). */
  get drainingPools(): number {
    return this.#draining.size;
  }

  get endpoints(): string[] {
    return [...this.#handles.keys()];
  }

  /** Resolves when discovery has answered and every endpoint's warm-up connections are settled. */
  async warmUp(): Promise<void> {
    await this.#resolver?.ready();
    while (this.#warming.size > 0) await Promise.allSettled([...this.#warming]);
  }

  /** One attempt (plus the transparent never-sent retry if asked): pick, acquire, call, release. */
  async unary(request: Uint8Array, options: CallOptions, hints: AttemptHints = {}): Promise<UnaryReply> {
    // Endpoints to avoid: those excluded when the call started (a copy: other attempts may add to the
    // policy's set meanwhile), plus (for the retry) the one tried first. No copy of an empty set.
    const excluded = hints.excluded;
    let avoid: ReadonlySet<string> = excluded !== undefined && excluded.size > 0 ? new Set(excluded) : NONE;
    for (let n = 0; ; n++) {
      const picked = this.#pick(options, avoid);
      const h = picked instanceof Promise ? await picked : picked;
      hints.markEndpoint?.(h.key);
      let conn: Connection | undefined;
      try {
        const c = h.pool.acquire();
        conn = c instanceof Promise ? await c : c;
        const reply = await conn.unary(request, options);
        this.#balancer.recordSuccess(h.key);
        this.onOutcome.emit({ upstream: this.name, endpoint: h.key });
        return reply;
      } catch (e) {
        const err = toGatewayError(e);
        const blame = blamesEndpoint(err);
        if (blame === "call") this.#balancer.recordFailure(h.key, "call"); // connect failures come from the pool
        this.onOutcome.emit({ upstream: this.name, endpoint: h.key, error: err });
        if (err.neverSent && hints.transparentRetry && n === 0 && !options.signal?.aborted) {
          avoid = new Set([...avoid, h.key]);
          continue;
        }
        throw withUpstream(err, this.name, h.key);
      } finally {
        if (conn) h.pool.release(conn);
      }
    }
  }

  /**
   * A streaming call. Like unary, a failure before the call was sent (connection closed first, GOAWAY
   * past its stream id, connect failure) is retried once on another endpoint when no reply message came;
   * the request messages already pulled are replayed (up to REPLAY_LIMIT_BYTES). Failures that blame
   * the endpoint feed the balancer's outlier detection; a deadline after replies came does not.
   */
  async stream(requests: AsyncIterable<Uint8Array>, options: CallOptions): Promise<StreamReply> {
    const src = new ReplayableRequests(requests, REPLAY_LIMIT_BYTES);
    const tried = new Set<string>();
    const first = await this.#streamAttempt(src, options, tried, 0);
    return joinAttempts(first, src, (e, key) => withUpstream(toGatewayError(e), this.name, key));
  }

  /** One attempt of a stream; `next` settles when it ends: with the retry attempt if one was started. */
  async #streamAttempt(src: ReplayableRequests, options: CallOptions, tried: Set<string>, n: number): Promise<StreamAttempt> {
    const h = await this.#pick(options, tried);
    tried.add(h.key);
    const retry = (err: GatewayError, replied: boolean): Promise<StreamAttempt> | undefined =>
      err.neverSent && n === 0 && !replied && src.replayable && !options.signal?.aborted ? this.#streamAttempt(src, options, tried, n + 1) : undefined;
    let conn: Connection;
    try {
      const c = h.pool.acquire();
      conn = c instanceof Promise ? await c : c;
    } catch (e) {
      const err = toGatewayError(e); // connect failures are recorded by the pool
      this.onOutcome.emit({ upstream: this.name, endpoint: h.key, error: err });
      const again = retry(err, false);
      if (again) return again;
      src.settle();
      throw withUpstream(err, this.name, h.key);
    }
    const reply = conn.stream(src.view(), options);
    const attempt: StreamAttempt = { key: h.key, reply, it: reply.messages[Symbol.asyncIterator](), replied: false, next: Promise.resolve(undefined) };
    attempt.next = reply.metadata.then(
      () => {
        h.pool.release(conn);
        this.#balancer.recordSuccess(h.key);
        this.onOutcome.emit({ upstream: this.name, endpoint: h.key });
        src.settle();
        return undefined;
      },
      (e: unknown) => {
        h.pool.release(conn);
        const err = toGatewayError(e);
        // A stream that has been answering and then runs out of time is not the endpoint's fault.
        const blame = attempt.replied && err.code === GrpcCode.DEADLINE_EXCEEDED ? undefined : blamesEndpoint(err);
        if (blame === "call") this.#balancer.recordFailure(h.key, "call");
        this.onOutcome.emit({ upstream: this.name, endpoint: h.key, error: err });
        const again = retry(err, attempt.replied);
        if (again) return again.catch((e2: unknown) => Promise.reject(withUpstream(toGatewayError(e2), this.name, h.key)));
        src.settle();
        return undefined;
      },
    );
    attempt.next.catch(() => {});
    return attempt;
  }

  drain(): void {
    this.#unsubscribe?.();
    this.#resolver?.stop();
    for (const h of this.#handles.values()) h.pool.drain();
  }

  destroy(): void {
    this.drain();
    for (const h of this.#handles.values()) h.pool.destroy();
    for (const p of this.#draining) p.destroy();
  }

  stats(): { name: string; protocol: string; balancer: BalancerStats; discovery?: ResolverStats; endpoints: PoolStats[]; draining: PoolStats[] } {
    for (const p of this.#draining) if (p.stats().details.length === 0) this.#draining.delete(p);
    return {
      name: this.name,
      protocol: this.protocol,
      balancer: this.#balancer.stats(),
      discovery: this.#resolver?.stats(),
      endpoints: [...this.#handles.values()].map((h) => h.pool.stats()),
      draining: [...this.#draining].map((p) => p.stats()),
    };
  }

  #track(p: Promise<unknown>): void {
    this.#warming.add(p);
    void p.finally(() => this.#warming.delete(p));
  }

  /**
   * Balancer pick, preferring endpoints not yet tried by this call; waits for a first endpoint list.
   * Answers without a promise when the balancer has an endpoint (every call once discovery answered).
   */
  #pick(options: CallOptions, avoid: ReadonlySet<string>): PoolHandle | Promise<PoolHandle> {
    const hashKey = this.#o.hashKey ? options.metadata?.[this.#o.hashKey] : undefined;
    const r = this.#pickNow(hashKey, avoid);
    if (r.kind === "ok") return r.endpoint;
    if (r.kind === "fail") throw r.error;
    return this.#pickAfterChange(options, hashKey, avoid);
  }

  #pickNow(hashKey: string | undefined, avoid: ReadonlySet<string>): ReturnType<ReturnType<Balancer<PoolHandle>["picker"]>["pick"]> {
    const picker = this.#balancer.picker();
    let r = picker.pick(hashKey ? { hashKey } : undefined);
    if (r.kind === "ok" && avoid.has(r.endpoint.key)) {
      // Try a few more picks for a fresh endpoint; fall back to the repeat when none is left.
      for (let i = 0; i < picker.endpoints.length * 2 && r.kind === "ok" && avoid.has(r.endpoint.key); i++) {
        const again = picker.pick(hashKey ? { hashKey: `${hashKey}#${i}` } : undefined);
        if (again.kind === "ok" && !avoid.has(again.endpoint.key)) r = again;
      }
    }
    return r;
  }

  /** No endpoint list yet: wait once for the picker to change (or the deadline), then pick again. */
  async #pickAfterChange(options: CallOptions, hashKey: string | undefined, avoid: ReadonlySet<string>): Promise<PoolHandle> {
    await new Promise<void>((resolve) => {
      const off = this.#balancer.onPickerChange(() => {
        off();
        clearTimeout(t);
        resolve();
      });
      const t = setTimeout(() => {
        off();
        resolve();
      }, Math.max(1, (options.deadline ?? Date.now() + 1000) - Date.now()));
    });
    const r = this.#pickNow(hashKey, avoid);
    if (r.kind === "ok") return r.endpoint;
    if (r.kind === "fail") throw r.error;
    throw new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: "no_endpoints", message: `upstream ${this.name} has no endpoints yet (discovery pending)`, upstream: this.name });
  }
}

function withUpstream(err: GatewayError, upstream: string, endpoint: string): GatewayError {
  if (err.upstream) return err;
  return new GatewayError({
    reason: err.reason, code: err.code, message: err.message, cause: err.cause, details: err.details, neverSent: err.neverSent,
    biz: err.biz, pushbackMs: err.pushbackMs, upstream, endpoint: err.endpoint ?? endpoint,
  });
}

/** Resolves when `p` settles or after `ms`, whichever comes first. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    p.then(done, done);
  });
}
