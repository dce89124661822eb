// One client stream (RFC 9113 5.1): request headers out, response headers, DATA and trailers in,
// flow control both ways (6.9). The session owns the socket and the frame writer; the stream keeps
// its own queues and windows and talks back to the session through a small link.
import { ErrorCode, MAX_WINDOW } from "./constants.ts";
import { Emitter } from "./emitter.ts";
import type { FrameWriter } from "./frame-writer.ts";
import type { HeaderMap } from "./hpack-decoder.ts";

/** What a stream needs from its session. */
export interface StreamLink {
  /** The stream has DATA (or a bare END_STREAM) that may be sendable now. */
  wantsToSend(s: ClientStream): void;
  /** `n` bytes were handed to the application: credit the stream window (6.9). */
  consumed(s: ClientStream, n: number): void;
  /** Reset the stream (RST_STREAM with `code`) and/or drop it from the session. */
  closed(s: ClientStream, rstCode: number | undefined, sendRst: boolean): void;
}

/** write() returns false once this much is queued on the stream (node's streams use 16 KiB). */
const HIGH_WATER = 64 * 1024;

type WriteCallback = (err?: Error | null) => void;

export class ClientStream extends Emitter {
  #id: number | undefined;
  #link: StreamLink;
  /** Request headers, until the session opens the stream. */
  headers: Record<string, string> | undefined;
  /** HEADERS carries END_STREAM (a request without body). */
  endOnOpen: boolean;

  // Sending.
  sendWindow = 0;
  #out: Uint8Array[] = [];
  #outHead = 0; // bytes of #out[0] already sent
  #outBytes = 0;
  #callbacks: { at: number; cb: WriteCallback }[] = [];
  #written = 0; // bytes ever queued
  #sent = 0; // bytes ever framed
  #endRequested = false;
  #localEnded = false;
  #needDrain = false;
  /** The session's write count when our HEADERS were framed (see H2ClientSession #flushes). */
  headersGeneration = -1;
  /** Queued in the session's round-robin of streams with DATA to send. */
  queued = false;

  // Receiving.
  recvWindow: number;
  #unacked = 0;
  #windowTarget: number;
  #paused = false;
  #in: Uint8Array[] = [];
  #responseSeen = false;
  #remoteEnded = false;
  #trailers: HeaderMap | undefined;
  #trailerFlags = 0;
  #delivering = false;

  #rstCode: number | undefined;
  #closed = false;

  constructor(link: StreamLink, headers: Record<string, string>, endStream: boolean, recvWindow: number) {
    super();
    this.#link = link;
    this.headers = headers;
    this.endOnOpen = endStream;
    this.recvWindow = recvWindow;
    this.#windowTarget = recvWindow;
    if (endStream) this.#endRequested = true;
  }

  // ---- H2Stream (the runtime port's shape) ------------------------------------------------------

  override on(event: "response" | "trailers", fn: (headers: HeaderMap, flags: number) => void): this;
  override on(event: "data", fn: (chunk: Uint8Array) => void): this;
  override on(event: "end" | "drain" | "close", fn: () => void): this;
  override on(event: "error", fn: (err: Error) => void): this;
  override on(event: string, fn: (...args: never[]) => void): this {
    return super.on(event, fn);
  }

  get id(): number | undefined {
    return this.#id;
  }
  get rstCode(): number | undefined {
    return this.#rstCode;
  }
  get destroyed(): boolean {
    return this.#closed;
  }

  write(chunk: Uint8Array, cb?: WriteCallback): boolean {
    if (this.#closed || this.#endRequested) {
      const err = new Error(this.#closed ? "write after the HTTP/2 stream closed" : "write after end");
      if (cb) queueMicrotask(() => cb(err));
      return false;
    }
    if (chunk.length > 0) {
      this.#out.push(chunk);
      this.#outBytes += chunk.length;
      this.#written += chunk.length;
    }
    if (cb) this.#callbacks.push({ at: this.#written, cb });
    if (this.#id !== undefined) this.#link.wantsToSend(this);
    if (this.#outBytes >= HIGH_WATER) {
      this.#needDrain = true;
      return false;
    }
    if (cb && this.#outBytes === 0) this.#settleCallbacks();
    return true;
  }

  end(chunk?: Uint8Array): void {
    if (this.#closed || this.#endRequested) return;
    if (chunk && chunk.length > 0) {
      this.#out.push(chunk);
      this.#outBytes += chunk.length;
      this.#written += chunk.length;
    }
    this.#endRequested = true;
    if (this.#id !== undefined) this.#link.wantsToSend(this);
  }

  /** Resets the stream (RST_STREAM with `code`, CANCEL by default); 'close' follows. */
  close(code: number = ErrorCode.CANCEL): void {
    if (this.#closed) return;
    this.#rstCode = code;
    this.#terminate(undefined, true);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#in.length > 0 || this.#trailers || this.#remoteEnded) queueMicrotask(() => this.#drainInbound());
  }

  // ---- session side --------------------------------------------------------------------------

  get opened(): boolean {
    return this.#id !== undefined;
  }
  get localEnded(): boolean {
    return this.#localEnded;
  }
  get remoteEnded(): boolean {
    return this.#remoteEnded;
  }
  get bufferedInbound(): number {
    let n = 0;
    for (const c of this.#in) n += c.length;
    return n;
  }

  /** The session sent HEADERS with this id. */
  markOpened(id: number, sendWindow: number): void {
    this.#id = id;
    this.sendWindow = sendWindow;
    this.headers = undefined;
    if (this.endOnOpen) this.#localEnded = true;
    else if (this.#outBytes > 0 || this.#endRequested) this.#link.wantsToSend(this);
  }

  /** Only a bare END_STREAM is left to send (needs no flow-control window). */
  get endOnly(): boolean {
    return !this.#closed && this.#id !== undefined && this.#outBytes === 0 && this.#endRequested && !this.#localEnded;
  }

  /** Whether takeData() can produce a frame now (given a positive connection window). */
  get sendable(): boolean {
    if (this.#closed || this.#localEnded || this.#id === undefined) return false;
    if (this.#outBytes > 0) return this.sendWindow > 0;
    return this.#endRequested;
  }

  /**
   * Writes one DATA frame of at most min(maxFrame, stream window, connWindow) bytes; END_STREAM on the
   * frame that empties the queue after end(). Returns the flow-controlled bytes sent.
   */
  takeData(w: FrameWriter, maxFrame: number, connWindow: number): number {
    const n = Math.min(this.#outBytes, maxFrame, this.sendWindow, connWindow);
    if (n <= 0) {
      if (this.#outBytes === 0 && this.#endRequested && !this.#localEnded) {
        w.data(this.#id!, EMPTY, true);
        this.#localEnded = true;
        this.#afterLocalEnd();
      }
      return 0;
    }
    let payload: Uint8Array;
    const head = this.#out[0]!;
    if (head.length - this.#outHead >= n) {
      payload = head.subarray(this.#outHead, this.#outHead + n);
      this.#outHead += n;
      if (this.#outHead === head.length) {
        this.#out.shift();
        this.#outHead = 0;
      }
    } else {
      payload = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const c = this.#out[0]!;
        const take = Math.min(c.length - this.#outHead, n - filled);
        payload.set(c.subarray(this.#outHead, this.#outHead + take), filled);
        filled += take;
        this.#outHead += take;
        if (this.#outHead === c.length) {
          this.#out.shift();
          this.#outHead = 0;
        }
      }
    }
    this.#outBytes -= n;
    this.#sent += n;
    this.sendWindow -= n;
    const end = this.#outBytes === 0 && this.#endRequested;
    w.data(this.#id!, payload, end);
    if (end) {
      this.#localEnded = true;
      this.#afterLocalEnd();
    }
    if (this.#callbacks.length > 0) this.#settleCallbacks();
    if (this.#needDrain && this.#outBytes < HIGH_WATER) {
      this.#needDrain = false;
      queueMicrotask(() => {
        if (!this.#closed) this.emit("drain");
      });
    }
    return n;
  }

  /** Response headers or trailers (a complete, decoded header block). Returns a stream error code, or 0. */
  onHeaders(h: HeaderMap, flags: number, endStream: boolean): number {
    if (this.#closed) return 0;
    if (this.#remoteEnded) return ErrorCode.STREAM_CLOSED; // 5.1 half-closed (remote)
    if (!this.#responseSeen) {
      const status = h[":status"];
      if (typeof status !== "string" || !/^[1-5]\d\d$/.test(status)) return ErrorCode.PROTOCOL_ERROR; // 8.3.2
      if (status[0] === "1") {
        // 8.1: informational responses come before the final one and never end the stream.
        return endStream || status === "101" ? ErrorCode.PROTOCOL_ERROR : 0;
      }
      this.#responseSeen = true;
      this.emit("response", h, flags);
    } else {
      // 8.1: a trailer section ends the stream and carries no pseudo-headers.
      if (!endStream) return ErrorCode.PROTOCOL_ERROR;
      for (const k in h) if (k.charCodeAt(0) === 58) return ErrorCode.PROTOCOL_ERROR;
      this.#trailers = h;
      this.#trailerFlags = flags;
    }
    if (endStream) this.#remoteEnded = true;
    if (!this.#closed) this.#drainInbound();
    return 0;
  }

  /** A DATA frame's content (`data`) of a frame whose flow-controlled length was `frameLength`. */
  onData(data: Uint8Array, frameLength: number, endStream: boolean): number {
    if (this.#closed) return 0;
    if (this.#remoteEnded) return ErrorCode.STREAM_CLOSED;
    if (!this.#responseSeen) return ErrorCode.PROTOCOL_ERROR; // 8.1: DATA before the response HEADERS
    if (frameLength > this.recvWindow) return ErrorCode.FLOW_CONTROL_ERROR; // 6.9.1
    this.recvWindow -= frameLength;
    // Padding counts against the window but is never delivered: give it back right away.
    const padding = frameLength - data.length;
    if (padding > 0) this.#unacked += padding;
    if (data.length > 0) this.#in.push(data);
    if (endStream) this.#remoteEnded = true;
    this.#drainInbound();
    return 0;
  }

  /** RST_STREAM from the peer (6.4). */
  onReset(code: number): void {
    if (this.#closed) return;
    if (code === ErrorCode.NO_ERROR && this.#remoteEnded) {
      // 8.1: the response is complete and the server asks us to stop sending: not a failure.
      // Whatever is still queued for the application is delivered; the stream then closes.
      this.#localEnded = true;
      this.#out.length = 0;
      this.#outBytes = 0;
      this.#rstCode = code;
      this.#drainInbound();
      return;
    }
    this.#rstCode = code;
    this.#terminate(new Error(`stream reset by the peer (HTTP/2 error ${code})`), false);
  }

  /** The stream dies with its session (or a stream error we raised). */
  fail(err: Error, rstCode: number, sendRst: boolean): void {
    if (this.#closed) return;
    this.#rstCode = rstCode;
    this.#terminate(err, sendRst);
  }

  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE changed by `delta` (6.9.2); false on overflow. */
  adjustSendWindow(delta: number): boolean {
    this.sendWindow += delta;
    return this.sendWindow <= MAX_WINDOW;
  }

  /** WINDOW_UPDATE for this stream; false on overflow (a stream FLOW_CONTROL_ERROR). */
  addSendWindow(increment: number): boolean {
    this.sendWindow += increment;
    return this.sendWindow <= MAX_WINDOW;
  }

  /** Bytes to credit with a WINDOW_UPDATE, once enough has been consumed (batching); 0 = not yet. */
  takeCredit(): number {
    if (this.#remoteEnded || this.#closed) return 0;
    if (this.#unacked < this.#windowTarget / 2) return 0;
    const n = this.#unacked;
    this.#unacked = 0;
    this.recvWindow += n;
    return n;
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Delivers queued DATA, then trailers and 'end', unless paused; closes when both sides are done. */
  #drainInbound(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      while (!this.#paused && !this.#closed && this.#in.length > 0) {
        const chunk = this.#in.shift()!;
        this.#unacked += chunk.length;
        this.emit("data", chunk);
        this.#link.consumed(this, chunk.length);
      }
      if (this.#paused || this.#closed || this.#in.length > 0 || !this.#remoteEnded) return;
      if (this.#trailers) {
        const t = this.#trailers;
        this.#trailers = undefined;
        this.emit("trailers", t, this.#trailerFlags);
        if (this.#closed) return;
      }
      this.emit("end");
      if (this.#closed) return;
      // Both sides done (RFC 9113 5.1). If we are still sending, the reply is complete anyway: stop with
      // RST_STREAM(NO_ERROR) as grpc-go does (8.1 permits either side to end early this way).
      const stillSending = !this.#localEnded;
      this.#terminate(undefined, stillSending, stillSending ? ErrorCode.NO_ERROR : undefined);
    } finally {
      this.#delivering = false;
    }
  }

  #afterLocalEnd(): void {
    if (this.#remoteEnded && this.#in.length === 0 && !this.#trailers && !this.#paused) this.#terminate(undefined, false);
  }

  #settleCallbacks(): void {
    while (this.#callbacks.length > 0 && this.#callbacks[0]!.at <= this.#sent) {
      const { cb } = this.#callbacks.shift()!;
      queueMicrotask(() => cb());
    }
  }

  #terminate(err: Error | undefined, sendRst: boolean, rstOverride?: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.length = 0;
    this.#outBytes = 0;
    this.#in.length = 0;
    const cbs = this.#callbacks;
    this.#callbacks = [];
    this.#link.closed(this, rstOverride ?? this.#rstCode, sendRst);
    queueMicrotask(() => {
      const e = err ?? (cbs.length > 0 ? new Error("HTTP/2 stream closed before the write was sent") : undefined);
      for (const { cb } of cbs) cb(e);
      if (err) this.emit("error", err);
      this.emit("close");
    });
  }
}

const EMPTY = new Uint8Array(0);
