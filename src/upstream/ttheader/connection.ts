import { Event, GatewayError, GrpcCode, Reason } from "../../core/index.ts";
import {
  FrameDecoder,
  HeaderFlag,
  MessageType,
  encodeMessageFrame,
  hasConnReset,
  isControlFrame,
  resolveLimits,
  type TTHeaderFrame,
  type TTHeaderLimits,
} from "../../protocol/ttheader/index.ts";
import type { TcpConnection } from "../../runtime/index.ts";
import type { CallOptions, Connection, ConnectionState, ConnectionStats, StreamReply, UnaryReply } from "../types.ts";
import * as E from "./errors.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_MUX_CAPACITY,
  nextConnectionId,
  type TTHeaderConnectionOptions,
} from "./options.ts";
import { PendingCall } from "./pending-call.ts";
import { interpretReply } from "./reply.ts";
import { buildRequestHeaders } from "./request-headers.ts";

/** mux: many calls matched by seq id (spec §4); pingpong: one call at a time (spec §3). */
export type TTHeaderMode = "mux" | "pingpong";

export interface TTHeaderConnectionStats extends ConnectionStats {
  readonly mode: TTHeaderMode;
  /** Replies whose seq id matched no call in flight (late after cancel/deadline, or bogus): dropped. */
  readonly unknownSeqReplies: number;
  readonly callsFailed: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

function formatEndpoint(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One TCP connection to a Kitex (or compatible) server speaking TTHeader +
 * KitexProtobuf. Create it with createMuxConnection / createPingpongConnection.
 */
export class TTHeaderConnection implements Connection {
  readonly id: number;
  readonly protocol: "ttheader-mux" | "ttheader-pool";
  readonly capacity: number;
  readonly createdAt: number;
  readonly ready: Promise<void>;
  readonly mode: TTHeaderMode;

  readonly #o: TTHeaderConnectionOptions;
  readonly #limits: TTHeaderLimits;
  readonly #now: () => number;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, PendingCall>();
  readonly #stateChanged = new Event<ConnectionState>();
  #state: ConnectionState = "connecting";
  #tcp: TcpConnection | undefined;
  #endpoint: string;
  #seq = 0;
  #lastUsedAt: number;
  #callsTotal = 0;
  #callsFailed = 0;
  #unknownSeq = 0;
  #bytesSent = 0;
  #bytesReceived = 0;

  constructor(mode: TTHeaderMode, options: TTHeaderConnectionOptions) {
    this.mode = mode;
    this.#o = options;
    this.id = options.id ?? nextConnectionId();
    this.protocol = mode === "mux" ? "ttheader-mux" : "ttheader-pool";
    this.capacity = mode === "mux" ? Math.max(1, options.capacity ?? DEFAULT_MUX_CAPACITY) : 1;
    this.#limits = resolveLimits(options.limits);
    // An oversized reply fails its own call only; the calls multiplexed beside it carry on.
    this.#decoder = new FrameDecoder(this.#limits, { skipOversized: true });
    this.#now = options.now ?? Date.now;
    this.createdAt = this.#now();
    this.#lastUsedAt = this.createdAt;
    this.#endpoint = formatEndpoint(options.host, options.port);
    this.ready = this.#connect();
    this.ready.catch(() => {}); // observed through unary() or by the pool; never an unhandled rejection
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get active(): number {
    return this.#pending.size;
  }

  get lastUsedAt(): number {
    return this.#lastUsedAt;
  }

  async #connect(): Promise<void> {
    let tcp: TcpConnection;
    try {
      tcp = await this.#o.connectTcp(
        {
          host: this.#o.host,
          port: this.#o.port,
          connectTimeoutMs: this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          keepAliveMs: this.#o.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
          noDelay: this.#o.noDelay ?? true,
          // Many calls share a mux connection: one socket write per event-loop turn, not per call.
          coalesceWrites: this.mode === "mux",
        },
        {
          data: (chunk) => this.#onData(chunk),
          drain: () => {},
          close: (err) => this.#onClose(err),
        },
      );
    } catch (e) {
      this.#setState("closed");
      throw E.connectError(this.#endpoint, e);
    }
    if (this.#state === "closed") {
      tcp.destroy();
      throw E.notSentError(this.#endpoint);
    }
    this.#tcp = tcp;
    if (tcp.remoteAddress) this.#endpoint = formatEndpoint(tcp.remoteAddress, tcp.remotePort || this.#o.port);
    if (this.#state === "draining") this.#closeNow();
    else this.#setState("ready");
  }

  async unary(request: Uint8Array, options: CallOptions): Promise<UnaryReply> {
    if (this.#state === "connecting") await this.#waitReady(options);
    if (this.#state === "closed") throw E.notSentError(this.#endpoint);
    if (this.#state === "draining") throw E.drainingError(this.#endpoint);
    if (options.signal?.aborted) throw E.cancelledError(this.#endpoint, true, options.signal.reason);
    const now = this.#now();
    const timeoutMs = options.deadline === undefined ? undefined : options.deadline - now;
    if (timeoutMs !== undefined && timeoutMs <= 0) throw E.deadlineError(this.#endpoint, true);
    if (this.#pending.size >= this.capacity) throw E.fullError(this.#endpoint, this.capacity);

    const seqId = this.#nextSeqId();
    const headers = buildRequestHeaders({
      method: options.method,
      metadata: options.metadata,
      timeoutMs,
      fromService: this.#o.fromService,
      fromMethod: this.#o.fromMethod,
      toService: this.#o.toService,
      sendIsn: this.#o.sendIsn ?? true,
    });
    const bytes = encodeMessageFrame(
      { flags: this.mode === "mux" ? HeaderFlag.supportOutOfOrder : HeaderFlag.none, ...headers },
      { codec: "kitex-protobuf", framed: true, type: MessageType.call, method: options.method.method, seqId, body: request },
      this.#limits,
    ); // throws message_too_large (neverSent) before anything is registered
    const tcp = this.#tcp;
    if (!tcp || tcp.closed) throw E.notSentError(this.#endpoint);

    const call = new PendingCall({
      seqId,
      method: options.method.method,
      maxReplyBytes: options.maxReplyBytes,
      timeoutMs,
      signal: options.signal,
      onGiveUp: (c, why, cause) => this.#giveUp(c, why, cause),
    });
    this.#pending.set(seqId, call);
    this.#callsTotal++;
    this.#lastUsedAt = now;
    this.#bytesSent += bytes.byteLength;
    tcp.write(bytes); // false only means "buffered"; a dead socket reports through close()
    return call.promise;
  }

  /** Waits for the connect, but no longer than the call's deadline or signal allow. */
  #waitReady(options: CallOptions): Promise<void> {
    const { signal, deadline } = options;
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => finish(E.cancelledError(this.#endpoint, true, signal?.reason));
      const finish = (error?: GatewayError) => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (deadline !== undefined) timer = setTimeout(() => finish(E.deadlineError(this.#endpoint, true)), Math.max(0, deadline - this.#now()));
      this.ready.then(
        () => finish(),
        (e: unknown) => finish(GatewayError.is(e) ? E.asNeverSent(e) : E.connectError(this.#endpoint, e)),
      );
    });
  }

  stream(requests: AsyncIterable<Uint8Array>, _options: CallOptions): StreamReply {
    // TTHeader Streaming (flag 0x0002) is a different protocol, out of scope here.
    const error = new GatewayError({
      code: GrpcCode.UNIMPLEMENTED,
      reason: Reason.methodNotFound,
      message: "streaming calls are not supported over TTHeader",
      neverSent: true,
      endpoint: this.#endpoint,
    });
    // Let the producer know nothing will be read; a failing return() must not become an unhandled rejection.
    Promise.resolve()
      .then(() => requests[Symbol.asyncIterator]().return?.())
      .catch(() => {});
    const metadata = Promise.reject(error);
    metadata.catch(() => {});
    return {
      messages: {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
      },
      metadata,
    };
  }

  drain(): void {
    if (this.#state === "closed" || this.#state === "draining") return;
    this.#setState("draining");
    if (this.#pending.size === 0 && this.#tcp) this.#closeNow();
  }

  destroy(reason?: Error): void {
    if (this.#state === "closed") return;
    this.#setState("closed");
    this.#failAll(E.lostError(this.#endpoint, `connection to ${this.#endpoint} destroyed${reason ? `: ${reason.message}` : ""}`, reason));
    this.#tcp?.destroy();
  }

  onStateChange(fn: (state: ConnectionState) => void): () => void {
    return this.#stateChanged.on(fn);
  }

  stats(): TTHeaderConnectionStats {
    return {
      id: this.id,
      protocol: this.protocol,
      state: this.#state,
      active: this.#pending.size,
      capacity: this.capacity,
      createdAt: this.createdAt,
      lastUsedAt: this.#lastUsedAt,
      callsTotal: this.#callsTotal,
      mode: this.mode,
      unknownSeqReplies: this.#unknownSeq,
      callsFailed: this.#callsFailed,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
    };
  }

  /** Per connection, non-zero, int32 wrap that skips 0 and ids still in flight (§1.2, §4.1). */
  #nextSeqId(): number {
    do {
      this.#seq = this.#seq >= 0x7fffffff ? -0x80000000 : this.#seq + 1;
    } while (this.#seq === 0 || this.#pending.has(this.#seq));
    return this.#seq;
  }

  #onData(chunk: Uint8Array): void {
    this.#bytesReceived += chunk.byteLength;
    if (this.#state === "closed") return;
    const out = this.#decoder.push(chunk);
    for (const frame of out.frames) {
      if (this.state === "closed") return; // a frame may have closed it
      this.#onFrame(frame);
    }
    for (const big of out.skipped ?? []) {
      if (this.state === "closed") return;
      this.#onOversized(big.seqId, big.size);
    }
    if (out.error) this.#protocolFailure(out.error);
  }

  /** A reply over the frame limit, read past unbuffered: its call fails with message_too_large. */
  #onOversized(seqId: number, size: number): void {
    let call = this.#pending.get(seqId);
    if (!call && this.mode === "pingpong" && this.#pending.size === 1) call = this.#pending.values().next().value;
    if (!call) {
      this.#unknownSeq++;
      return;
    }
    this.#settle(call, E.tooLargeReplyError(this.#endpoint, size, this.#limits.maxFrameSize));
  }

  #onFrame(frame: TTHeaderFrame): void {
    if (isControlFrame(frame)) {
      // Seq 0 is a control frame; crrst means: finish what is in flight, take nothing new (§4.2).
      if (hasConnReset(frame)) this.drain();
      return;
    }
    let call = this.#pending.get(frame.seqId);
    if (!call && this.mode === "pingpong" && this.#pending.size === 1) {
      // Non-mux Kitex only logs a header seq mismatch; the payload seq is what is checked (§1.2).
      call = this.#pending.values().next().value;
    }
    if (!call) {
      this.#unknownSeq++;
      return;
    }
    const result = interpretReply(frame, { method: call.method, seqId: call.seqId, endpoint: this.#endpoint, maxReplyBytes: call.maxReplyBytes });
    this.#settle(call, result);
    if (GatewayError.is(result) && result.reason === Reason.upstreamProtocol && this.mode === "pingpong") {
      this.destroy(result); // the stream can no longer be trusted for the next call
      return;
    }
    if (hasConnReset(frame)) this.drain(); // pingpong graceful shutdown / after an error reply (§3)
  }

  #settle(call: PendingCall, result: UnaryReply | GatewayError): void {
    if (!call.settle(result)) return;
    if (GatewayError.is(result)) this.#callsFailed++;
    this.#pending.delete(call.seqId);
    this.#lastUsedAt = this.#now();
    if (this.#state === "draining" && this.#pending.size === 0) this.#closeNow();
  }

  #giveUp(call: PendingCall, why: "deadline" | "abort", cause?: unknown): void {
    const error = why === "deadline" ? E.deadlineError(this.#endpoint, false) : E.cancelledError(this.#endpoint, false, cause);
    this.#settle(call, error);
    // A pingpong reply may still arrive and would be taken for the next call's: discard the connection.
    if (this.mode === "pingpong") this.destroy(error);
  }

  #protocolFailure(error: GatewayError): void {
    if (this.#state === "closed") return;
    this.#setState("closed");
    this.#failAll(new GatewayError({ code: error.code, reason: error.reason, message: error.message, cause: error.cause, endpoint: this.#endpoint }));
    this.#tcp?.destroy();
  }

  #onClose(err?: Error): void {
    if (this.#state === "closed") return;
    this.#setState("closed");
    const detail = err ? `: ${err.message}` : "";
    this.#failAll(E.lostError(this.#endpoint, `connection to ${this.#endpoint} lost with the call in flight${detail}`, err));
  }

  #closeNow(): void {
    this.#setState("closed");
    this.#tcp?.destroy();
  }

  #failAll(error: GatewayError): void {
    for (const call of [...this.#pending.values()]) this.#settle(call, error);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#stateChanged.emit(state);
  }
}

/** A mux connection (flags 0x0001, replies matched out of order by seq id). Needs a Kitex server with WithMuxTransport. */
export function createMuxConnection(options: TTHeaderConnectionOptions): TTHeaderConnection {
  return new TTHeaderConnection("mux", options);
}

/** A pingpong connection ("pool" mode): one call in flight at a time. */
export function createPingpongConnection(options: TTHeaderConnectionOptions): TTHeaderConnection {
  return new TTHeaderConnection("pingpong", options);
}
