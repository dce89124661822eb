// An upstream: its resolved endpoints, one pool per endpoint (keyed by resolved ip:port, never by
// host name), endpoint choice, and the one transparent retry of a call that was never sent.
import { Event, GatewayError, GrpcCode, Reason, toGatewayError } from "../core/index.ts";
import { EndpointPool, type CallOptions, type Connection, type EndpointAddress, type PoolOptions, type PoolStats, type StreamReply, type UnaryReply } from "../upstream/index.ts";

export interface UpstreamGroupOptions {
  readonly name: string;
  readonly protocol: string;
  readonly createConnection: (address: EndpointAddress, id: number) => Connection;
  readonly pool: Omit<PoolOptions, "key" | "upstream" | "create">;
}

export interface EndpointEntry {
  readonly address: EndpointAddress;
  readonly weight: number;
}

export interface CallOutcome {
  readonly upstream: string;
  readonly endpoint: string;
  readonly error?: GatewayError;
}

export function endpointKey(a: EndpointAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export class UpstreamGroup {
  readonly name: string;
  readonly protocol: string;
  /** Every finished attempt (for breakers, outlier ejection, metrics). */
  readonly onOutcome = new Event<CallOutcome>();
  readonly #o: UpstreamGroupOptions;
  #pools = new Map<string, EndpointPool>();
  #weights = new Map<string, number>();
  #order: EndpointPool[] = [];
  #rr = 0;
  #draining = new Set<EndpointPool>();

  constructor(o: UpstreamGroupOptions, endpoints: readonly EndpointEntry[]) {
    this.name = o.name;
    this.protocol = o.protocol;
    this.#o = o;
    this.setEndpoints(endpoints);
  }

  /** New addresses are used at once; removed ones drain (calls in flight finish). */
  setEndpoints(endpoints: readonly EndpointEntry[]): void {
    const next = new Map<string, EndpointPool>();
    for (const e of endpoints) {
      const key = endpointKey(e.address);
      this.#weights.set(key, e.weight);
      const pool =
        this.#pools.get(key) ??
        new EndpointPool({ ...this.#o.pool, key, upstream: this.name, create: (id) => this.#o.createConnection(e.address, id) });
      next.set(key, pool);
    }
    for (const [key, pool] of this.#pools) {
      if (!next.has(key)) {
        pool.drain();
        this.#draining.add(pool);
      }
    }
    this.#pools = next;
    this.#order = [];
    // Weighted order: each pool appears weight times, interleaved (simple smooth RR stand-in).
    for (const [key, pool] of next) for (let i = 0; i < (this.#weights.get(key) ?? 1); i++) this.#order.push(pool);
  }

  get endpoints(): string[] {
    return [...this.#pools.keys()];
  }

  async warmUp(perEndpoint?: number): Promise<number> {
    const counts = await Promise.all([...this.#pools.values()].map((p) => p.warmUp(perEndpoint)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async unary(request: Uint8Array, options: CallOptions): Promise<UnaryReply> {
    let tried: EndpointPool | undefined;
    for (let attempt = 0; ; attempt++) {
      const pool = this.#pick(tried);
      let conn: Connection | undefined;
      try {
        const c = pool.acquire();
        conn = c instanceof Promise ? await c : c;
        const reply = await conn.unary(request, options);
        this.onOutcome.emit({ upstream: this.name, endpoint: pool.key });
        return reply;
      } catch (e) {
        const err = toGatewayError(e);
        this.onOutcome.emit({ upstream: this.name, endpoint: pool.key, error: err });
        // A call that never reached the wire is retried once, transparently, whatever its idempotency.
        if (err.neverSent && attempt === 0 && !options.signal?.aborted) {
          tried = pool;
          continue;
        }
        throw withUpstream(err, this.name, pool.key);
      } finally {
        if (conn) pool.release(conn);
      }
    }
  }

  /** Streaming calls: the never-sent retry applies only to the connection acquisition. */
  async stream(requests: AsyncIterable<Uint8Array>, options: CallOptions): Promise<StreamReply> {
    const pool = this.#pick(undefined);
    const c = pool.acquire();
    const conn = c instanceof Promise ? await c : c;
    const reply = conn.stream(requests, options);
    reply.metadata.then(
      () => {
        pool.release(conn);
        this.onOutcome.emit({ upstream: this.name, endpoint: pool.key });
      },
      (e) => {
        pool.release(conn);
        this.onOutcome.emit({ upstream: this.name, endpoint: pool.key, error: toGatewayError(e) });
      },
    );
    return reply;
  }

  drain(): void {
    for (const p of this.#pools.values()) p.drain();
  }

  destroy(): void {
    for (const p of [...this.#pools.values(), ...this.#draining]) p.destroy();
  }

  stats(): { name: string; protocol: string; endpoints: PoolStats[]; draining: PoolStats[] } {
    for (const p of this.#draining) if (p.stats().details.length === 0) this.#draining.delete(p);
    return {
      name: this.name,
      protocol: this.protocol,
      endpoints: [...this.#pools.values()].map((p) => p.stats()),
      draining: [...this.#draining].map((p) => p.stats()),
    };
  }

  #pick(avoid: EndpointPool | undefined): EndpointPool {
    const n = this.#order.length;
    if (n === 0) {
      throw new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.noEndpoints, message: `upstream ${this.name} has no endpoints`, upstream: this.name });
    }
    for (let i = 0; i < n; i++) {
      const p = this.#order[this.#rr++ % n]!;
      if (p !== avoid || n === 1) return p;
    }
    return this.#order[0]!;
  }
}

function withUpstream(err: GatewayError, upstream: string, endpoint: string): GatewayError {
  if (err.upstream) return err;
  return new GatewayError({
    reason: err.reason, code: err.code, message: err.message, cause: err.cause, details: err.details, neverSent: err.neverSent,
    biz: err.biz, pushbackMs: err.pushbackMs, upstream, endpoint: err.endpoint ?? endpoint,
  });
}
