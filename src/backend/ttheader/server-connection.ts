import { createDeadline, linkSignals, type Deadline } from "../../core/index.ts";
import {
  FrameDecoder,
  HeaderFlag,
  IntKey,
  MessageType,
  StrKey,
  decodePayload,
  encodeControlFrame,
  type RpcMessage,
  type TTHeaderFrame,
  type TTHeaderLimits,
} from "../../protocol/ttheader/index.ts";
import type { TcpConnection, TcpHandlers } from "../../runtime/index.ts";
import type { HandlerContext } from "../types.ts";
import type { ConnectionFlow, FlowCounters } from "./connection-flow.ts";
import { DeadlineTimer } from "./deadline-timer.ts";
import { runUnary, type Outcome } from "./dispatch.ts";
import { encodeReplyFrame } from "./reply-frame.ts";
import { requestMetadata } from "./request-metadata.ts";
import { isMethodEntry, type Router } from "./routing.ts";
import { WriteWatermark } from "./write-watermark.ts";

/** How long a half-closed connection waits for the peer to close before it is destroyed. */
const END_TIMEOUT_MS = 1000;

export interface ServerConnectionDeps {
  readonly router: Router;
  readonly limits: TTHeaderLimits;
  /** After the control frame, how long a mux connection stays open for requests already in transit. */
  readonly stopGraceMs: number;
  readonly onError: (error: unknown) => void;
  readonly onClosed: (conn: ServerConnection) => void;
  readonly now: () => number;
  readonly flow: ConnectionFlow;
  readonly counters: FlowCounters;
}

/**
 * One accepted TCP connection. Frames are served concurrently and answered with
 * the request's payload seq id (spec §12.14), so mux and pingpong clients share
 * the port; a connection counts as mux once a frame carries flag 0x0001 (§4.1).
 *
 * Back-pressure: decoded frames wait in a small queue while the connection runs
 * maxInFlightPerConnection calls or its unsent replies exceed the write high-water
 * mark; while any wait, the socket is not read, so TCP flow control stops the peer.
 */
export class ServerConnection {
  readonly #tcp: TcpConnection;
  readonly #deps: ServerConnectionDeps;
  readonly #decoder: FrameDecoder;
  /** Aborts every handler's ctx.signal when the connection goes away. */
  readonly #closed = new AbortController();
  #inFlight = 0;
  #mux = false;
  #stopping = false;
  #controlSentAt = 0;
  #stopStartedAt = 0;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #done = false;
  #ending = false;
  /** Decoded frames not yet dispatched; entries before #pendingHead are spent. */
  #pending: (TTHeaderFrame | undefined)[] = [];
  #pendingHead = 0;
  readonly #writes: WriteWatermark;
  #readPaused = false;
  /** When the partial frame now in the decoder started arriving (undefined: none). */
  #partialSince: number | undefined;
  #lastActive: number;
  readonly #timer = new DeadlineTimer(() => this.#onTimer());

  constructor(tcp: TcpConnection, deps: ServerConnectionDeps) {
    this.#tcp = tcp;
    this.#deps = deps;
    this.#decoder = new FrameDecoder(deps.limits);
    this.#writes = new WriteWatermark(tcp, deps.flow.writeHighWaterBytes, deps.flow.writeLowWaterBytes, deps.counters, () => this.#pump());
    this.#lastActive = deps.now();
    this.#armTimer();
  }

  get handlers(): TcpHandlers {
    return {
      data: (chunk) => this.#onData(chunk),
      drain: () => this.#writes.check(),
      close: () => this.#onClose(),
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Decoded frames waiting for a free in-flight slot or for writes to drain. */
  get pendingFrames(): number {
    return this.#pending.length - this.#pendingHead;
  }

  /** Reply bytes queued in user space, not yet taken by the kernel. */
  get outboundBytes(): number {
    return this.#done ? 0 : this.#tcp.bufferedAmount;
  }

  /** The server stopped reading this connection (back-pressure). */
  get readPaused(): boolean {
    return this.#readPaused;
  }

  get closed(): boolean {
    return this.#done;
  }

  /**
   * Graceful stop: a mux connection gets the crrst control frame (§4.2) and stays
   * open while calls are in flight (plus a short grace for requests in transit);
   * a pingpong connection gets crrst on its next reply and closes after it (§3).
   */
  beginStop(): void {
    if (this.#stopping || this.#done) return;
    this.#stopping = true;
    this.#stopStartedAt = this.#deps.now();
    if (this.#mux) {
      this.#write(encodeControlFrame(this.#deps.limits));
      this.#controlSentAt = this.#deps.now();
    }
    this.#maybeFinishStop();
  }

  /** Hard close: in-flight handlers see ctx.signal abort. */
  destroy(): void {
    this.#tcp.destroy();
    this.#onClose();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#done) return;
    const now = this.#deps.now();
    this.#lastActive = now;
    const out = this.#decoder.push(chunk);
    for (const frame of out.frames) this.#pending.push(frame);
    // The frame-read clock restarts with each new frame (a completed frame ends the previous one).
    if (this.#decoder.buffered === 0) this.#partialSince = undefined;
    else if (this.#partialSince === undefined || out.frames.length > 0) this.#partialSince = now;
    this.#pump();
    if (out.error) {
      // Kitex writes nothing back for malformed frames (§12.7); the stream cannot be resynchronised.
      this.#deps.onError(out.error);
      this.destroy();
    }
  }

  /** Dispatch waiting frames while there is room, then pause or resume reading to match. */
  #pump(): void {
    const flow = this.#deps.flow;
    while (!this.#done && this.#pendingHead < this.#pending.length && !this.#writes.blocked && this.#inFlight < flow.maxInFlightPerConnection) {
      const frame = this.#pending[this.#pendingHead]!;
      this.#pending[this.#pendingHead++] = undefined;
      this.#serve(frame);
    }
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    }
    this.#syncReading();
  }

  #syncReading(): void {
    if (this.#done) return;
    const block = this.#writes.blocked || this.pendingFrames > 0;
    if (block && !this.#readPaused) {
      this.#readPaused = true;
      this.#tcp.pause();
    } else if (!block && this.#readPaused) {
      this.#readPaused = false;
      // The peer could not send while we were not reading: its partial frame gets a fresh clock.
      if (this.#partialSince !== undefined) this.#partialSince = this.#deps.now();
      this.#tcp.resume();
    }
    this.#armTimer();
  }

  #write(bytes: Uint8Array): void {
    if (this.#writes.write(bytes)) this.#syncReading();
  }

  /** One timer covers both timeouts: the partial frame's read deadline, else the idle deadline. */
  #armTimer(): void {
    if (this.#done) return;
    const flow = this.#deps.flow;
    if (this.#partialSince !== undefined) {
      if (!this.#readPaused && flow.frameReadTimeoutMs > 0) this.#timer.arm(this.#partialSince + flow.frameReadTimeoutMs, this.#deps.now());
    } else if (this.#idle() && flow.idleTimeoutMs > 0) {
      this.#timer.arm(this.#lastActive + flow.idleTimeoutMs, this.#deps.now());
    }
  }

  #idle(): boolean {
    return this.#inFlight === 0 && this.pendingFrames === 0 && this.#decoder.buffered === 0 && !this.#stopping;
  }

  #onTimer(): void {
    if (this.#done) return;
    const flow = this.#deps.flow;
    const now = this.#deps.now();
    if (this.#partialSince !== undefined && !this.#readPaused && flow.frameReadTimeoutMs > 0 && now >= this.#partialSince + flow.frameReadTimeoutMs) {
      this.#deps.counters.frameReadTimeouts++;
      this.#deps.onError(new Error(`frame read timeout: ${this.#decoder.buffered} bytes of a frame, not completed in ${flow.frameReadTimeoutMs} ms; connection closed`));
      return this.destroy();
    }
    if (this.#partialSince === undefined && this.#idle() && flow.idleTimeoutMs > 0 && now >= this.#lastActive + flow.idleTimeoutMs) {
      this.#deps.counters.idleCloses++;
      // Like a graceful stop of this one connection: crrst first, so clients do not send on it.
      return this.beginStop();
    }
    this.#armTimer();
  }

  #serve(frame: TTHeaderFrame): void {
    if (frame.flags & HeaderFlag.supportOutOfOrder && !this.#mux) {
      this.#mux = true;
      // Learned it is mux only after stop began (an idle warm connection): tell the client now.
      if (this.#stopping && this.#controlSentAt === 0) {
        this.#write(encodeControlFrame(this.#deps.limits));
        this.#controlSentAt = this.#deps.now();
      }
    }
    const decoded = decodePayload(frame.payload);
    if (!decoded.ok || (decoded.value.type !== MessageType.call && decoded.value.type !== MessageType.oneway)) {
      this.#deps.onError(decoded.ok ? new Error(`unexpected message type ${decoded.value.type}`) : decoded.error);
      // Mux: log and drop, the connection stays usable (§12.7). Pingpong: close, as Kitex does.
      if (!this.#mux) this.destroy();
      return;
    }
    this.#inFlight++;
    const counters = this.#deps.counters;
    counters.callsStarted++;
    if (this.#inFlight > counters.peakInFlightPerConnection) counters.peakInFlightPerConnection = this.#inFlight;
    void this.#run(frame, decoded.value)
      .catch((e: unknown) => this.#deps.onError(e))
      .finally(() => {
        this.#inFlight--;
        this.#lastActive = this.#deps.now();
        this.#writes.check();
        this.#pump();
        this.#maybeFinishStop();
      });
  }

  async #run(frame: TTHeaderFrame, msg: RpcMessage): Promise<void> {
    const isn = frame.strHeaders.get(StrKey.idlServiceName);
    const route = msg.codec === "kitex-protobuf" ? this.#deps.router.find(msg.method, isn) : { typeId: 1, message: `unknown method ${msg.method}` };
    if (!isMethodEntry(route)) {
      // Non-mux Kitex closes the connection after a routing error, with crrst (§12.9).
      this.#reply(msg, { kind: "exception", exception: route }, {}, !this.#mux);
      return;
    }
    const timeoutHeader = Number(frame.intHeaders.get(IntKey.rpcTimeout));
    const deadline: Deadline | undefined = timeoutHeader > 0 ? createDeadline(timeoutHeader, this.#deps.now) : undefined;
    const linked = linkSignals(this.#closed.signal, deadline?.signal);
    const ctx: HandlerContext = {
      metadata: requestMetadata(frame),
      signal: linked.signal,
      deadline: deadline?.at,
      method: route.desc,
      responseMetadata: {},
    };
    try {
      const outcome = await runUnary(route, msg.body, ctx);
      if (msg.type !== MessageType.oneway) this.#reply(msg, outcome, ctx.responseMetadata, false);
    } finally {
      linked.dispose();
      deadline?.dispose();
    }
  }

  #reply(req: RpcMessage, outcome: Outcome, responseMetadata: Readonly<Record<string, string>>, closeAfter: boolean): void {
    if (this.#done) return;
    const reset = closeAfter || (this.#stopping && !this.#mux);
    this.#write(encodeReplyFrame(req, outcome, responseMetadata, reset, this.#deps.limits, this.#deps.onError));
    if (reset) this.#endSoon();
  }

  #maybeFinishStop(): void {
    if (!this.#stopping || this.#done || this.#inFlight > 0 || this.pendingFrames > 0) return;
    // Every connection gets the grace period: a pingpong client may have a request in transit on an
    // idle connection (closing at once lost 1-2 calls per rolling restart), and a connection that has
    // sent nothing yet may be a warm mux connection about to be used. Requests arriving in the grace
    // are served (pingpong replies carry crrst).
    const since = this.#mux ? this.#controlSentAt : this.#stopStartedAt;
    const wait = since + this.#deps.stopGraceMs - this.#deps.now();
    if (wait <= 0) return this.#endSoon();
    if (this.#graceTimer === undefined) {
      this.#graceTimer = setTimeout(() => {
        this.#graceTimer = undefined;
        this.#maybeFinishStop();
      }, wait);
    }
  }

  /** Half-close once queued replies flush; the peer's close completes it, or a timer does. */
  #endSoon(): void {
    if (this.#done || this.#ending) return;
    this.#ending = true;
    this.#tcp.end();
    const t = setTimeout(() => this.destroy(), END_TIMEOUT_MS);
    (t as { unref?: () => void }).unref?.();
  }

  #onClose(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#writes.dispose();
    this.#timer.clear();
    this.#pending = [];
    this.#pendingHead = 0;
    this.#closed.abort(new DOMException("connection closed", "AbortError"));
    this.#deps.onClosed(this);
  }
}
