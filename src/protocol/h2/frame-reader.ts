// Incremental frame parsing (RFC 9113 4.1): bytes in as they arrive, whole frames out. A frame longer
// than our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR (4.2), so at most one frame is ever buffered.
import { ErrorCode, FRAME_HEADER_LENGTH } from "./constants.ts";
import { H2ConnectionError } from "./errors.ts";

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Uint8Array) => void;

export class FrameReader {
  #maxFrameSize: number;
  #onFrame: FrameHandler;
  /** A partial frame header (fewer than 9 bytes seen). */
  #head = new Uint8Array(FRAME_HEADER_LENGTH);
  #headLen = 0;
  /** A frame whose header is known but whose payload is still arriving. */
  #payload: Uint8Array | undefined;
  #filled = 0;
  #type = 0;
  #flags = 0;
  #streamId = 0;

  constructor(maxFrameSize: number, onFrame: FrameHandler) {
    this.#maxFrameSize = maxFrameSize;
    this.#onFrame = onFrame;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.#headLen + this.#filled;
  }

  /**
   * Parses `chunk`, calling the handler for every complete frame. Payloads of frames that lie wholly
   * inside `chunk` are views of it (no copy). Throws H2ConnectionError on an oversized frame, and
   * lets the handler's exceptions through (the connection is then dead: no further push is expected).
   */
  push(chunk: Uint8Array): void {
    let p = 0;
    const n = chunk.length;
    if (this.#payload) {
      const take = Math.min(n, this.#payload.length - this.#filled);
      this.#payload.set(chunk.subarray(0, take), this.#filled);
      this.#filled += take;
      p = take;
      if (this.#filled < this.#payload.length) return;
      const payload = this.#payload;
      this.#payload = undefined;
      this.#filled = 0;
      this.#onFrame(this.#type, this.#flags, this.#streamId, payload);
    } else if (this.#headLen > 0) {
      const take = Math.min(n, FRAME_HEADER_LENGTH - this.#headLen);
      this.#head.set(chunk.subarray(0, take), this.#headLen);
      this.#headLen += take;
      p = take;
      if (this.#headLen < FRAME_HEADER_LENGTH) return;
      this.#headLen = 0;
      const len = this.#readHeader(this.#head, 0);
      if (len === 0) {
        this.#onFrame(this.#type, this.#flags, this.#streamId, EMPTY);
      } else if (n - p >= len) {
        this.#onFrame(this.#type, this.#flags, this.#streamId, chunk.subarray(p, p + len));
        p += len;
      } else {
        this.#startPayload(len, chunk.subarray(p));
        return;
      }
    }
    while (n - p >= FRAME_HEADER_LENGTH) {
      const len = this.#readHeader(chunk, p);
      p += FRAME_HEADER_LENGTH;
      if (n - p < len) {
        this.#startPayload(len, chunk.subarray(p));
        return;
      }
      this.#onFrame(this.#type, this.#flags, this.#streamId, len === 0 ? EMPTY : chunk.subarray(p, p + len));
      p += len;
    }
    if (p < n) {
      this.#head.set(chunk.subarray(p), 0);
      this.#headLen = n - p;
    }
  }

  #readHeader(b: Uint8Array, p: number): number {
    const len = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
    this.#type = b[p + 3]!;
    this.#flags = b[p + 4]!;
    // The reserved bit is ignored on receipt (RFC 9113 4.1).
    this.#streamId = ((b[p + 5]! & 0x7f) << 24) | (b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!;
    if (len > this.#maxFrameSize) {
      throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${len} bytes (type ${this.#type}) exceeds our maximum of ${this.#maxFrameSize}`);
    }
    return len;
  }

  #startPayload(len: number, have: Uint8Array): void {
    this.#payload = new Uint8Array(len);
    this.#payload.set(have, 0);
    this.#filled = have.length;
  }
}

const EMPTY = new Uint8Array(0);
