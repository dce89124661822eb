import { createDeadline, linkSignals, type Deadline } from "../../core/index.ts";
import {
  FrameDecoder,
  HeaderFlag,
  IntKey,
  MessageType,
  StrKey,
  decodePayload,
  encodeControlFrame,
  encodeExceptionBody,
  encodeMessageFrame,
  writeBizStatus,
  type RpcMessage,
  type TTHeaderFrame,
  type TTHeaderLimits,
} from "../../protocol/ttheader/index.ts";
import type { TcpConnection, TcpHandlers } from "../../runtime/index.ts";
import type { HandlerContext } from "../types.ts";
import { runUnary, type Outcome } from "./dispatch.ts";
import { requestMetadata } from "./request-metadata.ts";
import { isMethodEntry, type Router } from "./routing.ts";

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
}

/**
 * One accepted TCP connection. Frames are served concurrently and answered with
 * the request's payload seq id (spec §12.14), so mux and pingpong clients share
 * the port; a connection counts as mux once a frame carries flag 0x0001 (§4.1).
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

  constructor(tcp: TcpConnection, deps: ServerConnectionDeps) {
    this.#tcp = tcp;
    this.#deps = deps;
    this.#decoder = new FrameDecoder(deps.limits);
  }

  get handlers(): TcpHandlers {
    return {
      data: (chunk) => this.#onData(chunk),
      drain: () => {},
      close: () => this.#onClose(),
    };
  }

  get inFlight(): number {
    return this.#inFlight;
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
      this.#tcp.write(encodeControlFrame(this.#deps.limits));
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
    const out = this.#decoder.push(chunk);
    for (const frame of out.frames) this.#serve(frame);
    if (out.error) {
      // Kitex writes nothing back for malformed frames (§12.7); the stream cannot be resynchronised.
      this.#deps.onError(out.error);
      this.destroy();
    }
  }

  #serve(frame: TTHeaderFrame): void {
    if (frame.flags & HeaderFlag.supportOutOfOrder && !this.#mux) {
      this.#mux = true;
      // Learned it is mux only after stop began (an idle warm connection): tell the client now.
      if (this.#stopping && this.#controlSentAt === 0) {
        this.#tcp.write(encodeControlFrame(this.#deps.limits));
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
    void this.#run(frame, decoded.value)
      .catch((e: unknown) => this.#deps.onError(e))
      .finally(() => {
        this.#inFlight--;
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
    const strHeaders = new Map<string, string>(Object.entries(responseMetadata));
    if (outcome.kind === "biz") writeBizStatus(strHeaders, outcome.biz);
    const reset = closeAfter || (this.#stopping && !this.#mux);
    if (reset) strHeaders.set(StrKey.connReset, "1");
    const exception = outcome.kind === "exception";
    // Int header 22 (MsgType) as Kitex's ServerTTHeaderHandler writes it (§12.11).
    const intHeaders = new Map([[IntKey.msgType, exception ? "3" : "2"]]);
    const body = outcome.kind === "reply" ? outcome.body : outcome.kind === "exception" ? encodeExceptionBody(req.codec, outcome.exception) : new Uint8Array(0);
    const message: RpcMessage = { ...req, type: exception ? MessageType.exception : MessageType.reply, body };
    let bytes: Uint8Array;
    try {
      bytes = encodeMessageFrame({ flags: 0, strHeaders, intHeaders }, message, this.#deps.limits);
    } catch (e) {
      this.#deps.onError(e);
      const fallback = { ...message, type: MessageType.exception, body: encodeExceptionBody(req.codec, { typeId: 6, message: "reply too large" }) };
      bytes = encodeMessageFrame({ flags: 0, strHeaders: reset ? new Map([[StrKey.connReset, "1"]]) : new Map(), intHeaders: new Map([[IntKey.msgType, "3"]]) }, fallback, this.#deps.limits);
    }
    this.#tcp.write(bytes);
    if (reset) this.#endSoon();
  }

  #maybeFinishStop(): void {
    if (!this.#stopping || this.#done || this.#inFlight > 0) return;
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
    this.#closed.abort(new DOMException("connection closed", "AbortError"));
    this.#deps.onClosed(this);
  }
}
