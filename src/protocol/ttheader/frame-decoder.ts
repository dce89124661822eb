import { ByteQueue, type GatewayError } from "../../core/index.ts";
import { resolveLimits, TTHEADER_MAGIC, type TTHeaderLimits } from "./constants.ts";
import { checkFramePrefix, decodeFrame } from "./frame-decode.ts";
import type { TTHeaderFrame } from "./frame.ts";

/** A well-formed frame too large to accept, read past without buffering it (see FrameDecoderOptions). */
export interface SkippedFrame {
  readonly seqId: number;
  /** Whole frame size in bytes, LENGTH field included. */
  readonly size: number;
}

export interface DecodeOutput {
  /** Frames completed by this push, in order (they precede the error, if any). */
  readonly frames: TTHeaderFrame[];
  /** Oversized frames whose start arrived in this push (only with skipOversized). */
  readonly skipped?: SkippedFrame[];
  /** Set once the stream is broken; the decoder stays failed from then on. */
  readonly error?: GatewayError;
}

export interface FrameDecoderOptions {
  /**
   * Read past a frame larger than maxFrameSize instead of failing the stream, when its fixed part is
   * sound (LENGTH without the MSB, the TTHeader magic): the frame is reported in `skipped` with its
   * seq id and its bytes are discarded as they arrive, never buffered. A client uses this so that one
   * oversized reply fails only its own call, not every call multiplexed on the connection.
   */
  readonly skipOversized?: boolean;
}

// LENGTH(4) MAGIC(2) FLAGS(2) SEQID(4): enough to tell an oversized frame from garbage and whose it is (§1.1).
const SEQ_END = 12;

/**
 * Incremental, bounded TTHeader decoder for one TCP stream. It never holds more
 * than one partial frame, and that frame's size was checked against the limits
 * from its first bytes (see checkFramePrefix), so a peer cannot make it buffer
 * without bound. Frame payloads are copies, safe to keep after the push.
 */
export class FrameDecoder {
  readonly #queue = new ByteQueue();
  readonly #limits: TTHeaderLimits;
  readonly #skipOversized: boolean;
  #error: GatewayError | undefined;
  /** Bytes of a skipped frame still to discard. */
  #skipping = 0;

  constructor(limits?: Partial<TTHeaderLimits>, options: FrameDecoderOptions = {}) {
    this.#limits = resolveLimits(limits);
    this.#skipOversized = options.skipOversized ?? false;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.#queue.length;
  }

  get failed(): GatewayError | undefined {
    return this.#error;
  }

  push(chunk: Uint8Array): DecodeOutput {
    const frames: TTHeaderFrame[] = [];
    if (this.#error) return { frames, error: this.#error };
    let skipped: SkippedFrame[] | undefined;
    if (this.#skipping > 0) {
      const n = Math.min(this.#skipping, chunk.byteLength);
      this.#skipping -= n;
      chunk = chunk.subarray(n);
      if (chunk.byteLength === 0) return { frames };
    }
    const queued = this.#queue.length > 0;
    if (queued) this.#queue.push(chunk);
    const data = queued ? this.#queue.peek() : chunk;
    let off = 0;
    for (;;) {
      const rest = data.subarray(off);
      const big = this.#skipOversized ? this.#oversized(rest) : undefined;
      if (big === "wait") break;
      if (big !== undefined) {
        (skipped ??= []).push(big);
        const here = Math.min(big.size, rest.byteLength);
        off += here;
        this.#skipping = big.size - here;
        if (this.#skipping > 0) break;
        continue;
      }
      const prefix = checkFramePrefix(rest, this.#limits);
      if (!prefix.ok) return this.#fail(frames, prefix.error, skipped);
      const total = prefix.value;
      if (total === undefined || rest.byteLength < total) break;
      const frame = decodeFrame(data.slice(off, off + total), this.#limits);
      if (!frame.ok) return this.#fail(frames, frame.error, skipped);
      frames.push(frame.value);
      off += total;
    }
    if (queued) this.#queue.consume(off);
    else if (off < chunk.byteLength) this.#queue.push(chunk.subarray(off));
    return skipped ? { frames, skipped } : { frames };
  }

  /** An oversized but well-formed frame at the start of `bytes`; "wait" while its seq id is not in yet. */
  #oversized(bytes: Uint8Array): SkippedFrame | "wait" | undefined {
    if (bytes.byteLength < 4) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(0);
    if (length & 0x80000000 || length + 4 <= this.#limits.maxFrameSize) return undefined;
    if (bytes.byteLength < SEQ_END) return "wait";
    if (view.getUint16(4) !== TTHEADER_MAGIC) return undefined; // garbage: checkFramePrefix fails the stream
    return { seqId: view.getInt32(8), size: length + 4 };
  }

  #fail(frames: TTHeaderFrame[], error: GatewayError, skipped?: SkippedFrame[]): DecodeOutput {
    this.#error = error;
    this.#queue.clear();
    return skipped ? { frames, skipped, error } : { frames, error };
  }
}
