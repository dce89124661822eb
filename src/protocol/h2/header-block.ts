// A field block split over HEADERS + CONTINUATION frames (RFC 9113 4.3, 6.10), held until END_HEADERS:
// HPACK can't decode it in parts. Bounded in bytes and in frames (CONTINUATION floods, CVE-2024-27316).
import { ErrorCode } from "./constants.ts";
import { H2ConnectionError } from "./errors.ts";

const MAX_CONTINUATIONS = 512;

export class HeaderBlockAssembler {
  #maxBytes: number;
  #streamId = 0;
  #flags = 0;
  #parts: Uint8Array[] = [];
  #size = 0;
  #frames = 0;
  #open = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** A block is in progress: only CONTINUATION frames of its stream may come next (6.10). */
  get pending(): boolean {
    return this.#open;
  }

  /** HEADERS without END_HEADERS: the first fragment (copied: the frame's bytes are the socket's). */
  start(streamId: number, flags: number, fragment: Uint8Array): void {
    this.#open = true;
    this.#streamId = streamId;
    this.#flags = flags;
    this.#parts = [fragment.slice()];
    this.#size = fragment.length;
    this.#frames = 0;
    this.#check();
  }

  /** A CONTINUATION frame; returns the whole block and the HEADERS flags once END_HEADERS arrives. */
  continuation(streamId: number, payload: Uint8Array, endHeaders: boolean): { flags: number; block: Uint8Array } | undefined {
    if (!this.#open || streamId !== this.#streamId) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${streamId} without a header block in progress`);
    }
    this.#parts.push(payload.slice());
    this.#size += payload.length;
    this.#frames++;
    this.#check();
    if (!endHeaders) return undefined;
    const block = new Uint8Array(this.#size);
    let off = 0;
    for (const p of this.#parts) {
      block.set(p, off);
      off += p.length;
    }
    this.#open = false;
    this.#parts = [];
    return { flags: this.#flags, block };
  }

  #check(): void {
    if (this.#size > this.#maxBytes || this.#frames > MAX_CONTINUATIONS) {
      throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block over ${this.#maxBytes} bytes or ${MAX_CONTINUATIONS} CONTINUATION frames`);
    }
  }
}
