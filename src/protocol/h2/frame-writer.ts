// Frame serialisation (RFC 9113 4.1 and 6): frames are appended to one growing buffer that the
// session hands to the socket in a single write per flush.
import { Flag, FrameType } from "./constants.ts";

export class FrameWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initial = 16 * 1024) {
    this.#buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.#pos;
  }

  /** A copy of the bytes written so far (the caller may keep it); the writer starts over. */
  take(): Uint8Array | undefined {
    if (this.#pos === 0) return undefined;
    const out = this.#buf.slice(0, this.#pos);
    this.#pos = 0;
    // Don't keep a buffer grown for one large burst (a 16 MiB message is framed 256 KiB per flush).
    if (this.#buf.length > 1 << 20) this.#buf = new Uint8Array(16 * 1024);
    return out;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    bigger.set(this.#buf.subarray(0, this.#pos));
    this.#buf = bigger;
  }

  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** RFC 9113 4.1: 24-bit length, type, flags, R bit + 31-bit stream id. */
  #header(length: number, type: number, flags: number, streamId: number): void {
    this.#ensure(9 + length);
    const b = this.#buf;
    const p = this.#pos;
    b[p] = length >>> 16;
    b[p + 1] = length >>> 8;
    b[p + 2] = length;
    b[p + 3] = type;
    b[p + 4] = flags;
    b[p + 5] = (streamId >>> 24) & 0x7f;
    b[p + 6] = streamId >>> 16;
    b[p + 7] = streamId >>> 8;
    b[p + 8] = streamId;
    this.#pos = p + 9;
  }

  #u32(v: number): void {
    const b = this.#buf;
    const p = this.#pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.#pos = p + 4;
  }

  /** 6.1 DATA (never padded by us). */
  data(streamId: number, payload: Uint8Array, endStream: boolean): void {
    this.#header(payload.length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId);
    this.#buf.set(payload, this.#pos);
    this.#pos += payload.length;
  }

  /** 6.2 HEADERS, split into CONTINUATION frames (6.10) when the block exceeds maxFrameSize. */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number): void {
    if (block.length <= maxFrameSize) {
      this.#header(block.length, FrameType.HEADERS, (endStream ? Flag.END_STREAM : 0) | Flag.END_HEADERS, streamId);
      this.#buf.set(block, this.#pos);
      this.#pos += block.length;
      return;
    }
    let off = maxFrameSize;
    this.#header(off, FrameType.HEADERS, endStream ? Flag.END_STREAM : 0, streamId);
    this.#buf.set(block.subarray(0, off), this.#pos);
    this.#pos += off;
    while (off < block.length) {
      const next = Math.min(block.length, off + maxFrameSize);
      const part = block.subarray(off, next);
      this.#header(part.length, FrameType.CONTINUATION, next === block.length ? Flag.END_HEADERS : 0, streamId);
      this.#buf.set(part, this.#pos);
      this.#pos += part.length;
      off = next;
    }
  }

  /** 6.4 RST_STREAM. */
  rstStream(streamId: number, code: number): void {
    this.#header(4, FrameType.RST_STREAM, 0, streamId);
    this.#u32(code);
  }

  /** 6.5 SETTINGS: [identifier, value] pairs. */
  settings(pairs: readonly (readonly [number, number])[]): void {
    this.#header(pairs.length * 6, FrameType.SETTINGS, 0, 0);
    for (const [id, value] of pairs) {
      this.#buf[this.#pos++] = id >>> 8;
      this.#buf[this.#pos++] = id;
      this.#u32(value);
    }
  }

  settingsAck(): void {
    this.#header(0, FrameType.SETTINGS, Flag.ACK, 0);
  }

  /** 6.7 PING with an 8-byte payload. */
  ping(payload: Uint8Array, ack: boolean): void {
    this.#header(8, FrameType.PING, ack ? Flag.ACK : 0, 0);
    this.#buf.set(payload.subarray(0, 8), this.#pos);
    this.#pos += 8;
  }

  /** 6.8 GOAWAY. */
  goaway(lastStreamId: number, code: number, debug?: Uint8Array): void {
    const n = debug?.length ?? 0;
    this.#header(8 + n, FrameType.GOAWAY, 0, 0);
    this.#u32(lastStreamId & 0x7fffffff);
    this.#u32(code);
    if (debug) {
      this.#buf.set(debug, this.#pos);
      this.#pos += n;
    }
  }

  /** 6.9 WINDOW_UPDATE. */
  windowUpdate(streamId: number, increment: number): void {
    this.#header(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.#u32(increment & 0x7fffffff);
  }

  /** Any frame, for tests (malformed frames included). */
  frame(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    this.#header(payload.length, type, flags, streamId);
    this.#buf.set(payload, this.#pos);
    this.#pos += payload.length;
  }
}
