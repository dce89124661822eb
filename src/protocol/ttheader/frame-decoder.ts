import { ByteQueue, type GatewayError } from "../../core/index.ts";
import { resolveLimits, type TTHeaderLimits } from "./constants.ts";
import { checkFramePrefix, decodeFrame } from "./frame-decode.ts";
import type { TTHeaderFrame } from "./frame.ts";

export interface DecodeOutput {
  /** Frames completed by this push, in order (they precede the error, if any). */
  readonly frames: TTHeaderFrame[];
  /** Set once the stream is broken; the decoder stays failed from then on. */
  readonly error?: GatewayError;
}

/**
 * Incremental, bounded TTHeader decoder for one TCP stream. It never holds more
 * than one partial frame, and that frame's size was checked against the limits
 * from its first bytes (see checkFramePrefix), so a peer cannot make it buffer
 * without bound. Frame payloads are copies, safe to keep after the push.
 */
export class FrameDecoder {
  readonly #queue = new ByteQueue();
  readonly #limits: TTHeaderLimits;
  #error: GatewayError | undefined;

  constructor(limits?: Partial<TTHeaderLimits>) {
    this.#limits = resolveLimits(limits);
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
    const queued = this.#queue.length > 0;
    if (queued) this.#queue.push(chunk);
    const data = queued ? this.#queue.peek() : chunk;
    let off = 0;
    for (;;) {
      const rest = data.subarray(off);
      const prefix = checkFramePrefix(rest, this.#limits);
      if (!prefix.ok) return this.#fail(frames, prefix.error);
      const total = prefix.value;
      if (total === undefined || rest.byteLength < total) break;
      const frame = decodeFrame(data.slice(off, off + total), this.#limits);
      if (!frame.ok) return this.#fail(frames, frame.error);
      frames.push(frame.value);
      off += total;
    }
    if (queued) this.#queue.consume(off);
    else if (off < chunk.byteLength) this.#queue.push(chunk.subarray(off));
    return { frames };
  }

  #fail(frames: TTHeaderFrame[], error: GatewayError): DecodeOutput {
    this.#error = error;
    this.#queue.clear();
    return { frames, error };
  }
}
