// HTTP/2 client session over a plain byte stream (h2c with prior knowledge, RFC 9113 3.3): connection
// preface and SETTINGS exchange, stream concurrency, flow control both ways, PING, GOAWAY, and error
// handling (section 5.4). Frames from all streams are coalesced into one socket write per microtask.
// It implements the runtime port's H2Session shape (src/runtime/types.ts) structurally.
import { ClientStream, type StreamLink } from "./client-stream.ts";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  ErrorCode,
  errorCodeName,
  Flag,
  FrameType,
  MAX_STREAM_ID,
  MAX_WINDOW,
  Setting,
} from "./constants.ts";
import { H2ConnectionError, HpackError } from "./errors.ts";
import { headersFragment, parseGoaway, parseSettings, u32, unpad } from "./frame-payloads.ts";
import { FrameReader } from "./frame-reader.ts";
import { FrameWriter } from "./frame-writer.ts";
import { HeaderBlockAssembler } from "./header-block.ts";
import { HpackDecoder } from "./hpack-decoder.ts";
import { HpackEncoder } from "./hpack-encoder.ts";
import { PingTracker } from "./ping-tracker.ts";
import type { H2Connect, H2Transport } from "./transport.ts";

export interface H2ClientSessionEvents {
  goaway(errorCode: number, lastStreamId: number): void;
  close(err?: Error): void;
  remoteSettings(maxConcurrentStreams: number): void;
}

export interface H2ClientSessionOptions {
  /** http://host:port (the scheme is not used: this client speaks h2c only). */
  authority: string;
  connect: H2Connect;
  connectTimeoutMs?: number;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window (default 4 MiB). */
  initialWindowSize?: number;
  /** Our connection receive window (default 16 MiB, at least 4 stream windows). */
  connectionWindowSize?: number;
  /** Our SETTINGS_MAX_FRAME_SIZE: the largest frame we accept, hence buffer (default 16 KiB). */
  maxFrameSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE (default 1 MiB); larger header sections reset their stream. */
  maxHeaderListSize?: number;
  tcpKeepAliveMs?: number;
  events: H2ClientSessionEvents;
}

const DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024;
/** RFC 9113 6.5.2 suggests peers allow at least 100; used until the server's SETTINGS arrive. */
const ASSUMED_MAX_STREAMS = 100;
/** Bytes of DATA framed per flush while the socket keeps up; bounds what sits in its write buffer. */
const FLUSH_BUDGET = 256 * 1024;
/** Control frames we may queue while the peer does not read (PING/SETTINGS floods): then ENHANCE_YOUR_CALM. */
const MAX_CONTROL_WHILE_BLOCKED = 10_000;

export function createH2ClientSession(o: H2ClientSessionOptions): H2ClientSession {
  return new H2ClientSession(o);
}

export class H2ClientSession {
  readonly ready: Promise<void>;
  #events: H2ClientSessionEvents;
  #transport: H2Transport | undefined;
  #writer = new FrameWriter();
  #reader: FrameReader;
  #decoder: HpackDecoder;
  #encoder = new HpackEncoder();
  #pings = new PingTracker();
  #flushScheduled = false;
  /** Successful socket writes so far: a stream whose HEADERS went into the writer at generation g
   *  reached the socket once #flushes > g. */
  #flushes = 0;
  #socketBlocked = false;
  #controlWhileBlocked = 0;
  #unref = false;

  // Streams.
  #streams = new Map<number, ClientStream>();
  #pending: ClientStream[] = [];
  #sendQueue: ClientStream[] = [];
  #nextStreamId = 1;
  #active = 0;

  // Our side.
  #streamWindow: number;
  #connWindowTarget: number;
  #connRecvWindow = DEFAULT_WINDOW_SIZE;
  #connUnacked = 0;
  #maxHeaderListSize: number;

  // The peer's side.
  #sawSettings = false;
  #settingsApplied = false;
  #peerMaxStreams = ASSUMED_MAX_STREAMS;
  #peerInitialWindow = DEFAULT_WINDOW_SIZE;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #connSendWindow = DEFAULT_WINDOW_SIZE;

  // Header block being assembled from HEADERS + CONTINUATION (6.10).
  #block: HeaderBlockAssembler;

  // Lifecycle.
  #goawayLast: number | undefined;
  #closing = false;
  #destroyed = false;
  #closeEmitted = false;
  #link: StreamLink;

  constructor(o: H2ClientSessionOptions) {
    this.#events = o.events;
    this.#streamWindow = Math.min(o.initialWindowSize ?? DEFAULT_STREAM_WINDOW, MAX_WINDOW);
    this.#connWindowTarget = Math.min(Math.max(o.connectionWindowSize ?? 16 * 1024 * 1024, this.#streamWindow), MAX_WINDOW);
    this.#maxHeaderListSize = o.maxHeaderListSize ?? 1024 * 1024;
    const maxFrame = Math.min(Math.max(o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE), 16_777_215);
    this.#reader = new FrameReader(maxFrame, this.#onFrame);
    this.#block = new HeaderBlockAssembler(this.#maxHeaderListSize);
    this.#decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: this.#maxHeaderListSize });
    this.#link = {
      wantsToSend: (s) => this.#wantsToSend(s),
      consumed: (s) => this.#consumed(s),
      closed: (s, code, sendRst) => this.#streamClosed(s, code, sendRst),
    };

    // 3.4: the preface, then our SETTINGS; the connection window is raised with WINDOW_UPDATE (6.9.2).
    this.#writer.raw(CLIENT_PREFACE);
    const settings: [number, number][] = [
      [Setting.ENABLE_PUSH, 0],
      [Setting.INITIAL_WINDOW_SIZE, this.#streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, this.#maxHeaderListSize],
    ];
    if (maxFrame !== DEFAULT_MAX_FRAME_SIZE) settings.push([Setting.MAX_FRAME_SIZE, maxFrame]);
    this.#writer.settings(settings);
    if (this.#connWindowTarget > DEFAULT_WINDOW_SIZE) {
      this.#writer.windowUpdate(0, this.#connWindowTarget - DEFAULT_WINDOW_SIZE);
      this.#connRecvWindow = this.#connWindowTarget;
    }

    const url = new URL(o.authority);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port ? Number(url.port) : 80;
    this.ready = o
      .connect(
        { host, port, connectTimeoutMs: o.connectTimeoutMs, noDelay: true, keepAliveMs: o.tcpKeepAliveMs },
        {
          data: (chunk) => this.#onData(chunk),
          drain: () => this.#onDrain(),
          close: (err) => this.#onTransportClose(err),
        },
      )
      .then(
        (t) => {
          if (this.#destroyed) {
            t.destroy();
            throw new Error("HTTP/2 session destroyed while connecting");
          }
          this.#transport = t;
          if (this.#unref) t.unref?.();
          this.#flush();
        },
        (e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          this.#teardown(err, ErrorCode.CANCEL);
          throw err;
        },
      );
    this.ready.catch(() => {});
  }

  // ---- H2Session --------------------------------------------------------------------------------

  get maxConcurrentStreams(): number {
    return this.#peerMaxStreams;
  }

  /** No new streams: destroyed, closing, or told to go away. */
  get closed(): boolean {
    return this.#destroyed || this.#closing || this.#goawayLast !== undefined;
  }

  request(headers: Record<string, string>, options?: { endStream?: boolean }): ClientStream {
    if (this.closed) throw new Error(this.#destroyed ? "HTTP/2 session is destroyed" : "HTTP/2 session is closing (GOAWAY)");
    const s = new ClientStream(this.#link, headers, options?.endStream ?? false, this.#streamWindow);
    if (this.#pending.length === 0 && this.#active < this.#peerMaxStreams) this.#open(s);
    else this.#pending.push(s);
    return s;
  }

  ping(timeoutMs: number): Promise<number> {
    if (this.#destroyed) return Promise.reject(new Error("HTTP/2 session is destroyed"));
    const { payload, rtt } = this.#pings.start(timeoutMs);
    this.#writer.ping(payload, false);
    this.#schedule();
    return rtt;
  }

  close(): void {
    if (this.#destroyed || this.#closing) return;
    this.#closing = true;
    this.#maybeFinish();
  }

  destroy(err?: Error): void {
    this.#teardown(err, ErrorCode.CANCEL);
  }

  unref(): void {
    this.#unref = true;
    this.#transport?.unref?.();
  }

  /** Streams open or waiting for a slot (for tests and stats). */
  get streamCount(): number {
    return this.#streams.size + this.#pending.length;
  }

  // ---- streams --------------------------------------------------------------------------------

  #open(s: ClientStream): void {
    const id = this.#nextStreamId;
    if (id > MAX_STREAM_ID) {
      // 5.1.1: stream ids are exhausted; the connection must be replaced. Act as if told to go away.
      this.#goawayLast = id - 2;
      this.#events.goaway(ErrorCode.NO_ERROR, id - 2);
      s.fail(new Error("HTTP/2 stream identifiers exhausted"), ErrorCode.REFUSED_STREAM, false);
      return;
    }
    this.#nextStreamId += 2;
    this.#streams.set(id, s);
    this.#active++;
    const block = this.#encoder.encode(s.headers!);
    this.#writer.headers(id, block, s.endOnOpen, this.#peerMaxFrameSize);
    s.headersGeneration = this.#flushes;
    s.markOpened(id, this.#peerInitialWindow);
    this.#schedule();
  }

  #openPending(): void {
    while (this.#pending.length > 0 && this.#active < this.#peerMaxStreams && !this.#destroyed && this.#goawayLast === undefined) {
      const s = this.#pending.shift()!;
      if (!s.destroyed) this.#open(s);
    }
  }

  #wantsToSend(s: ClientStream): void {
    if (!s.queued) {
      s.queued = true;
      this.#sendQueue.push(s);
    }
    this.#schedule();
  }

  #consumed(s: ClientStream): void {
    const n = s.takeCredit();
    if (n > 0 && s.id !== undefined) {
      this.#writer.windowUpdate(s.id, n);
      this.#schedule();
    }
  }

  #streamClosed(s: ClientStream, rstCode: number | undefined, sendRst: boolean): void {
    const id = s.id;
    if (id === undefined) {
      const i = this.#pending.indexOf(s);
      if (i >= 0) this.#pending.splice(i, 1);
    } else if (this.#streams.delete(id)) {
      this.#active--;
      if (sendRst && !this.#destroyed) {
        this.#writer.rstStream(id, rstCode ?? ErrorCode.CANCEL);
        this.#schedule();
      }
      this.#openPending();
    }
    this.#maybeFinish();
  }

  // ---- writing --------------------------------------------------------------------------------

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flush);
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    const t = this.#transport;
    if (!t || this.#destroyed) return;
    if (!this.#socketBlocked && this.#sendQueue.length > 0) this.#writeData();
    const out = this.#writer.take();
    if (!out) return;
    if (this.#socketBlocked && ++this.#controlWhileBlocked > MAX_CONTROL_WHILE_BLOCKED) {
      this.#connectionError(new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "peer does not read while making us write control frames"));
      return;
    }
    this.#flushes++;
    if (!t.write(out)) this.#socketBlocked = true;
  };

  /** Round-robin over streams with DATA, one frame each per turn, within the windows and the budget. */
  #writeData(): void {
    let budget = FLUSH_BUDGET;
    const maxFrame = this.#peerMaxFrameSize;
    while (budget > 0 && this.#sendQueue.length > 0) {
      const round = this.#sendQueue;
      this.#sendQueue = [];
      let progress = false;
      for (const s of round) {
        s.queued = false;
        if (!s.sendable) continue; // re-queued by write()/end()/WINDOW_UPDATE when it can go on
        if (budget <= 0 || (this.#connSendWindow <= 0 && !s.endOnly)) {
          this.#requeue(s);
          continue;
        }
        const n = s.takeData(this.#writer, maxFrame, this.#connSendWindow);
        this.#connSendWindow -= n;
        budget -= n + 9;
        progress = true;
        if (s.sendable) this.#requeue(s);
      }
      if (!progress) break;
    }
  }

  #requeue(s: ClientStream): void {
    if (s.queued) return;
    s.queued = true;
    this.#sendQueue.push(s);
  }

  // ---- reading --------------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    if (this.#destroyed) return;
    try {
      this.#reader.push(chunk);
    } catch (e) {
      if (e instanceof H2ConnectionError) this.#connectionError(e);
      else if (e instanceof HpackError) this.#connectionError(new H2ConnectionError(ErrorCode.COMPRESSION_ERROR, e.message));
      else this.#connectionError(new H2ConnectionError(ErrorCode.INTERNAL_ERROR, e instanceof Error ? e.message : String(e)));
    }
  }

  #onDrain(): void {
    this.#socketBlocked = false;
    this.#controlWhileBlocked = 0;
    this.#flush();
  }

  #onTransportClose(err: Error | undefined): void {
    if (this.#destroyed) return;
    const finished = (this.#closing || this.#goawayLast !== undefined) && this.#streams.size === 0 && this.#pending.length === 0;
    this.#teardown(finished ? undefined : (err ?? new Error("HTTP/2 connection closed by the peer")), ErrorCode.CANCEL);
  }

  #onFrame = (type: number, flags: number, sid: number, payload: Uint8Array): void => {
    if (this.#destroyed) return;
    if (this.#block.pending && type !== FrameType.CONTINUATION) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `frame type ${type} inside a header block (expected CONTINUATION)`);
    }
    // 3.4: the server's preface is a SETTINGS frame.
    if (!this.#sawSettings && (type !== FrameType.SETTINGS || flags & Flag.ACK)) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `server preface must start with SETTINGS, got frame type ${type}`);
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onDataFrame(flags, sid, payload);
      case FrameType.HEADERS:
        return this.#onHeadersFrame(flags, sid, payload);
      case FrameType.CONTINUATION:
        return this.#onContinuation(flags, sid, payload);
      case FrameType.PRIORITY:
        // 6.3: deprecated signals, ignored; only the frame's shape is checked.
        if (sid === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        if (payload.length !== 5) this.#streamError(sid, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY frame not 5 bytes");
        return;
      case FrameType.RST_STREAM:
        return this.#onRstStream(sid, payload);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, sid, payload);
      case FrameType.PUSH_PROMISE:
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE although we disabled push (8.4)");
      case FrameType.PING:
        return this.#onPing(flags, sid, payload);
      case FrameType.GOAWAY:
        return this.#onGoaway(sid, payload);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(sid, payload);
      default:
        return; // 5.5: unknown frame types are ignored
    }
  };

  /** The stream a frame is for; undefined for streams already closed; throws for idle streams (5.1). */
  #streamFor(sid: number, what: string): ClientStream | undefined {
    if (sid === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${what} on stream 0`);
    const s = this.#streams.get(sid);
    if (s) return s;
    // Even ids would be server-initiated (push, which is off); odd ids we have not used are idle.
    if (sid % 2 === 0 || sid >= this.#nextStreamId) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${sid}`);
    return undefined; // closed: frames may still be in flight after our RST_STREAM (5.1 "closed")
  }

  #onDataFrame(flags: number, sid: number, payload: Uint8Array): void {
    const s = this.#streamFor(sid, "DATA");
    // 6.9.1: the whole payload, padding included, counts against both windows.
    const len = payload.length;
    if (len > this.#connRecvWindow) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `DATA of ${len} bytes exceeds the connection window (${this.#connRecvWindow})`);
    this.#connRecvWindow -= len;
    // Connection credit goes back on receipt: what a stream holds is bounded by its own window.
    this.#connUnacked += len;
    if (this.#connUnacked >= this.#connWindowTarget / 2) {
      this.#writer.windowUpdate(0, this.#connUnacked);
      this.#connRecvWindow += this.#connUnacked;
      this.#connUnacked = 0;
      this.#schedule();
    }
    const data = unpad(payload, flags, "DATA");
    if (!s) return;
    const code = s.onData(data, len, (flags & Flag.END_STREAM) !== 0);
    if (code) this.#streamError(sid, code, `bad DATA frame (${errorCodeName(code)})`);
  }

  #onHeadersFrame(flags: number, sid: number, payload: Uint8Array): void {
    if (sid === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    const fragment = headersFragment(payload, flags);
    if (flags & Flag.END_HEADERS) return this.#onHeaderBlock(sid, flags, fragment);
    this.#block.start(sid, flags, fragment);
  }

  #onContinuation(flags: number, sid: number, payload: Uint8Array): void {
    const done = this.#block.continuation(sid, payload, (flags & Flag.END_HEADERS) !== 0);
    if (done) this.#onHeaderBlock(sid, done.flags, done.block);
  }

  #onHeaderBlock(sid: number, flags: number, block: Uint8Array): void {
    // Decode first, whatever the stream's state: the HPACK table must follow every block (4.3).
    const headers = this.#decoder.decode(block);
    const s = this.#streamFor(sid, "HEADERS");
    if (!s) return;
    if (this.#decoder.tooLarge) return this.#streamError(sid, ErrorCode.PROTOCOL_ERROR, `response header section over ${this.#maxHeaderListSize} bytes`);
    if (this.#decoder.malformed) return this.#streamError(sid, ErrorCode.PROTOCOL_ERROR, `malformed response: ${this.#decoder.malformed}`);
    const code = s.onHeaders(headers, flags, (flags & Flag.END_STREAM) !== 0);
    if (code) this.#streamError(sid, code, `bad HEADERS (${errorCodeName(code)})`);
  }

  #onRstStream(sid: number, payload: Uint8Array): void {
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM of ${payload.length} bytes`);
    this.#streamFor(sid, "RST_STREAM")?.onReset(u32(payload, 0));
  }

  #onSettings(flags: number, sid: number, payload: Uint8Array): void {
    if (sid !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    const s = parseSettings(payload);
    this.#sawSettings = true;
    if (s.maxFrameSize !== undefined) this.#peerMaxFrameSize = s.maxFrameSize;
    if (s.initialWindowSize !== undefined) {
      // 6.9.2: the change applies to every open stream's send window, which may go negative.
      const delta = s.initialWindowSize - this.#peerInitialWindow;
      this.#peerInitialWindow = s.initialWindowSize;
      for (const st of this.#streams.values()) {
        if (!st.adjustSendWindow(delta)) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window");
        if (delta > 0 && st.sendable) this.#wantsToSend(st);
      }
    }
    if (s.maxConcurrentStreams !== undefined) this.#peerMaxStreams = Math.min(s.maxConcurrentStreams, 1_000_000);
    else if (!this.#settingsApplied) this.#peerMaxStreams = 1_000_000; // 6.5.2: no limit unless the server sets one
    this.#settingsApplied = true;
    // HEADER_TABLE_SIZE needs nothing: our encoder never uses the dynamic table.
    this.#writer.settingsAck();
    this.#schedule();
    this.#openPending();
    this.#events.remoteSettings(this.#peerMaxStreams);
  }

  #onPing(flags: number, sid: number, payload: Uint8Array): void {
    if (sid !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `PING of ${payload.length} bytes`);
    if (flags & Flag.ACK) return this.#pings.ack(payload);
    this.#writer.ping(payload, true);
    this.#schedule();
  }

  #onGoaway(sid: number, payload: Uint8Array): void {
    if (sid !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    const g = parseGoaway(payload);
    // 6.8: a later GOAWAY may lower the last stream id, never raise it.
    const last = this.#goawayLast === undefined ? g.lastStreamId : Math.min(this.#goawayLast, g.lastStreamId);
    this.#goawayLast = last;
    this.#events.goaway(g.code, last);
    const why = `server sent GOAWAY (${errorCodeName(g.code)}${g.debug ? `: ${g.debug}` : ""})`;
    // Streams above the last id were not processed (6.8): they fail as refused, safe to retry; streams
    // never opened fail without an id. Streams at or below it may still complete.
    for (const s of [...this.#pending]) s.fail(new Error(why), ErrorCode.REFUSED_STREAM, false);
    for (const [id, s] of [...this.#streams]) if (id > last) s.fail(new Error(why), ErrorCode.REFUSED_STREAM, false);
    this.#maybeFinish();
  }

  #onWindowUpdate(sid: number, payload: Uint8Array): void {
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${payload.length} bytes`);
    const inc = u32(payload, 0) & 0x7fffffff;
    if (sid === 0) {
      if (inc === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      this.#connSendWindow += inc;
      if (this.#connSendWindow > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection send window above 2^31-1");
      if (this.#sendQueue.length > 0) this.#schedule();
      return;
    }
    const s = this.#streamFor(sid, "WINDOW_UPDATE");
    if (!s) return;
    if (inc === 0) return this.#streamError(sid, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    if (!s.addSendWindow(inc)) return this.#streamError(sid, ErrorCode.FLOW_CONTROL_ERROR, "stream send window above 2^31-1");
    if (s.sendable) this.#wantsToSend(s);
  }

  // ---- errors and shutdown --------------------------------------------------------------------

  /** 5.4.2: reset one stream; the connection goes on. */
  #streamError(sid: number, code: number, message: string): void {
    const s = this.#streams.get(sid);
    if (s) s.fail(new Error(`HTTP/2 stream ${sid}: ${message}`), code, true);
    else {
      this.#writer.rstStream(sid, code);
      this.#schedule();
    }
  }

  /** 5.4.1: GOAWAY with the error, then close; every stream fails. */
  #connectionError(e: H2ConnectionError): void {
    if (this.#destroyed) return;
    const t = this.#transport;
    if (t) {
      // Only the GOAWAY: frames still in the writer are dropped, so streams whose HEADERS were there
      // truly never reached the server (they fail as REFUSED_STREAM below, safe to retry).
      this.#writer.take();
      const w = new FrameWriter(64);
      w.goaway(0, e.code, new TextEncoder().encode(e.message.slice(0, 200)));
      t.write(w.take()!);
      t.end();
      // If the peer never closes its side, don't hold the socket forever.
      const timer = setTimeout(() => t.destroy(), 1000);
      (timer as { unref?: () => void }).unref?.();
      this.#transport = undefined;
    }
    this.#teardown(e, ErrorCode.CANCEL);
  }

  /** Ends the session once closing (ours or the peer's GOAWAY) and no stream is left. */
  #maybeFinish(): void {
    if (this.#destroyed || (!this.#closing && this.#goawayLast === undefined)) return;
    if (this.#streams.size > 0 || this.#pending.length > 0) return;
    const t = this.#transport;
    if (t) {
      // 6.8: tell the server we are done (no server-initiated streams were processed: last id 0).
      this.#writer.goaway(0, ErrorCode.NO_ERROR);
      const out = this.#writer.take();
      if (out) t.write(out);
      t.end();
      const timer = setTimeout(() => t.destroy(), 1000);
      (timer as { unref?: () => void }).unref?.();
      this.#transport = undefined;
    }
    this.#teardown(undefined, ErrorCode.CANCEL);
  }

  /**
   * Marks the session dead, fails what is left (streams close with `streamCode`, as node:http2 closes
   * them with CANCEL when the connection goes), rejects pings, emits 'close' once.
   */
  #teardown(err: Error | undefined, streamCode: number): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const t = this.#transport;
    this.#transport = undefined;
    if (t && !t.closed) t.destroy();
    const streamErr = err ?? new Error("HTTP/2 session closed");
    for (const s of [...this.#pending]) s.fail(streamErr, streamCode, false);
    // A stream whose HEADERS never reached the socket was not sent at all: REFUSED_STREAM says so (as
    // RFC 9113 8.7 uses it), which callers treat as safe to retry.
    for (const s of [...this.#streams.values()]) s.fail(streamErr, s.headersGeneration === this.#flushes ? ErrorCode.REFUSED_STREAM : streamCode, false);
    this.#pending.length = 0;
    this.#sendQueue.length = 0;
    this.#pings.failAll(streamErr);
    if (!this.#closeEmitted) {
      this.#closeEmitted = true;
      this.#events.close(err);
    }
  }
}
