// A gRPC connection: one HTTP/2 session to one endpoint, with GOAWAY draining and PING keepalive.
// Max connection age is the pool's job (EndpointPool, pool-age.ts), shared with TTHeader.
import { Event } from "../../core/index.ts";
import type { H2ConnectOptions, H2Session, H2SessionEvents, H2TlsOptions } from "../../runtime/index.ts";
import type { CallOptions, Connection, ConnectionState, ConnectionStats, EndpointAddress, StreamReply, UnaryReply } from "../types.ts";
import { connectError, notSentError } from "./call-errors.ts";
import { openWhenLoaded } from "./deferred-session.ts";
import { streamingCall, unaryCall, type CallContext } from "./grpc-call.ts";

export interface GrpcKeepaliveOptions {
  /** Ping an idle-but-open session this often (0 = off). Keep >= 5 min unless the server permits more: grpc servers
   *  answer frequent pings without calls with GOAWAY too_many_pings (grpc/proposal A8-client-side-keepalive.md). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Ping only while calls are in flight (the safe default for servers with ping enforcement). */
  readonly onlyWithCalls: boolean;
}

export interface GrpcConnectionOptions {
  readonly id: number;
  readonly address: EndpointAddress;
  readonly openH2Session: (o: H2ConnectOptions) => H2Session;
  /** TLS (https); a function loads the material (e.g. reads PEM files) before each new connection. */
  readonly tls?: H2TlsOptions | (() => Promise<H2TlsOptions>);
  /** :authority to send; defaults to host:port. */
  readonly authority?: string;
  readonly connectTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly userAgent?: string;
  readonly keepalive?: GrpcKeepaliveOptions;
  /** TCP keepalive delay on the socket (default 30 s: below common 60 s NAT timeouts); 0 = off. */
  readonly tcpKeepAliveMs?: number;
}

export function createGrpcConnection(o: GrpcConnectionOptions): Connection {
  return new GrpcConnection(o);
}

class GrpcConnection implements Connection {
  readonly id: number;
  readonly protocol = "grpc" as const;
  readonly endpoint: string;
  readonly createdAt = Date.now();
  readonly ready: Promise<void>;
  lastUsedAt = Date.now();
  #state: ConnectionState = "connecting";
  #active = 0;
  #calls = 0;
  #session: H2Session;
  #ctx: CallContext;
  #goawayLast: number | undefined;
  #changes = new Event<ConnectionState>();
  #keepaliveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: GrpcConnectionOptions) {
    const settings = deferred();
    this.id = o.id;
    this.endpoint = `${o.address.host.includes(":") ? `[${o.address.host}]` : o.address.host}:${o.address.port}`;
    const scheme = o.tls ? "https" : "http";
    const events: H2SessionEvents = {
      goaway: (_code, last) => {
        this.#goawayLast = last;
        this.#setState("draining");
      },
      close: (err) => {
        settings.reject(err ?? new Error(`connection to ${this.endpoint} closed before the server's SETTINGS`));
        this.#setState("closed");
      },
      remoteSettings: () => settings.resolve(),
    };
    const open = (tls: H2TlsOptions | undefined) =>
      o.openH2Session({ authority: `${scheme}://${this.endpoint}`, connectTimeoutMs: o.connectTimeoutMs, tls, tcpKeepAliveMs: o.tcpKeepAliveMs ?? 30_000, events });
    this.#session = typeof o.tls === "function" ? openWhenLoaded(o.tls, open, events) : open(o.tls);
    this.#session.unref();
    this.#ctx = {
      session: this.#session,
      endpoint: this.endpoint,
      scheme,
      authority: o.authority ?? this.endpoint,
      userAgent: o.userAgent ?? "sluice/0.1 grpc",
      maxMessageBytes: o.maxMessageBytes,
      goawayLastStreamId: () => this.#goawayLast,
    };
    // Ready means the server spoke: its SETTINGS arrived (as grpc-js's subchannel connector waits for
    // 'remoteSettings'), not merely that TCP connected; a proxy or a server that accepts but never answers
    // must fail within connectTimeoutMs rather than swallow calls. This also makes capacity
    // (MAX_CONCURRENT_STREAMS) known before the first call.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      if (!o.connectTimeoutMs) return;
      timer = setTimeout(() => {
        const e = new Error(`no HTTP/2 SETTINGS from ${this.endpoint} within ${o.connectTimeoutMs} ms`);
        e.name = "ConnectTimeoutError";
        reject(e);
        this.#session.destroy(e);
      }, o.connectTimeoutMs);
    });
    timedOut.catch(() => {});
    this.ready = Promise.race([Promise.all([this.#session.ready, settings.promise]), timedOut]).then(
      () => {
        clearTimeout(timer);
        if (this.#state === "connecting") this.#setState("ready");
        this.#startKeepalive(o.keepalive);
      },
      (e) => {
        clearTimeout(timer);
        this.#setState("closed");
        throw connectError(this.endpoint, e);
      },
    );
    this.ready.catch(() => {});
  }

  get state(): ConnectionState {
    return this.#state;
  }
  get active(): number {
    return this.#active;
  }
  get capacity(): number {
    return this.#session.maxConcurrentStreams;
  }

  unary(request: Uint8Array, options: CallOptions): Promise<UnaryReply> {
    if (this.#state === "closed" || this.#session.closed) return Promise.reject(notSentError(this.endpoint, "connection closed"));
    this.#begin();
    const p = unaryCall(this.#ctx, request, options);
    p.then(this.#end, this.#end);
    return p;
  }

  stream(requests: AsyncIterable<Uint8Array>, options: CallOptions): StreamReply {
    if (this.#state === "closed" || this.#session.closed) {
      const err = notSentError(this.endpoint, "connection closed");
      const failed = Promise.reject(err);
      failed.catch(() => {});
      return { messages: { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }) }, metadata: failed };
    }
    this.#begin();
    const reply = streamingCall(this.#ctx, requests, options);
    reply.metadata.then(this.#end, this.#end);
    return reply;
  }

  drain(): void {
    if (this.#state === "closed") return;
    this.#setState("draining");
    this.#session.close();
  }

  destroy(reason?: Error): void {
    this.#session.destroy(reason);
    this.#setState("closed");
  }

  onStateChange(fn: (state: ConnectionState) => void): () => void {
    return this.#changes.on(fn);
  }

  stats(): ConnectionStats {
    return {
      id: this.id,
      protocol: this.protocol,
      state: this.#state,
      active: this.#active,
      capacity: this.capacity,
      createdAt: this.createdAt,
      lastUsedAt: this.lastUsedAt,
      callsTotal: this.#calls,
    };
  }

  #begin(): void {
    this.#active++;
    this.#calls++;
    this.lastUsedAt = Date.now();
  }

  #end = (): void => {
    this.#active--;
    this.lastUsedAt = Date.now();
  };

  #setState(s: ConnectionState): void {
    if (this.#state === s || this.#state === "closed") return;
    if (s === "draining" && this.#state !== "ready" && this.#state !== "connecting") return;
    this.#state = s;
    if (s === "closed") clearTimeout(this.#keepaliveTimer);
    this.#changes.emit(s);
  }

  #startKeepalive(ka: GrpcKeepaliveOptions | undefined): void {
    if (!ka || ka.intervalMs <= 0) return;
    const schedule = () => {
      this.#keepaliveTimer = setTimeout(tick, ka.intervalMs);
      (this.#keepaliveTimer as { unref?: () => void }).unref?.();
    };
    const tick = () => {
      if (this.#state !== "ready") return;
      if (!ka.onlyWithCalls || this.#active > 0) {
        this.#session.ping(ka.timeoutMs).catch((e) => this.destroy(e instanceof Error ? e : new Error(String(e))));
      }
      schedule();
    };
    schedule();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
