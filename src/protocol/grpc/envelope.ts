// gRPC length-prefixed messages: 1 byte flags (bit 0 = compressed), 4 bytes big-endian length, payload.
// Source: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md ("Length-Prefixed-Message").
import { ByteQueue, GatewayError, GrpcCode, Reason } from "../../core/index.ts";

export const ENVELOPE_HEADER = 5;

export function encodeEnvelope(message: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER + message.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, ENVELOPE_HEADER);
  return out;
}

/**
 * Incremental decoder. Returns whole messages as they complete; refuses any
 * message over maxBytes before buffering it (so a peer can't make us buffer
 * without bound).
 */
export class EnvelopeDecoder {
  readonly #maxBytes: number;
  #queue = new ByteQueue();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get buffered(): number {
    return this.#queue.length;
  }

  /** Feeds a chunk; calls onMessage for each complete message. Throws GatewayError on bad input. */
  push(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): void {
    // Fast path: a chunk holding exactly whole messages and nothing buffered.
    if (this.#queue.length === 0) {
      let off = 0;
      while (chunk.byteLength - off >= ENVELOPE_HEADER) {
        const len = this.#readHeader(chunk, off);
        if (chunk.byteLength - off - ENVELOPE_HEADER < len) break;
        onMessage(chunk.subarray(off + ENVELOPE_HEADER, off + ENVELOPE_HEADER + len));
        off += ENVELOPE_HEADER + len;
      }
      if (off === chunk.byteLength) return;
      chunk = chunk.subarray(off);
    }
    this.#queue.push(chunk);
    for (;;) {
      const view = this.#queue.peek();
      if (view.byteLength < ENVELOPE_HEADER) return;
      const len = this.#readHeader(view, 0);
      if (view.byteLength < ENVELOPE_HEADER + len) return;
      this.#queue.consume(ENVELOPE_HEADER);
      onMessage(this.#queue.take(len));
    }
  }

  /** Bytes left over when the stream ended: a truncated message. */
  finish(): void {
    if (this.#queue.length > 0) {
      throw new GatewayError({
        code: GrpcCode.INTERNAL,
        reason: Reason.upstreamProtocol,
        message: `upstream stream ended inside a message (${this.#queue.length} bytes left)`,
      });
    }
  }

  #readHeader(b: Uint8Array, off: number): number {
    const flags = b[off]!;
    if (flags & 1) {
      throw new GatewayError({
        code: GrpcCode.INTERNAL,
        reason: Reason.upstreamProtocol,
        message: "upstream sent a compressed message but no grpc-encoding was negotiated",
      });
    }
    if (flags & 0x7e) {
      throw new GatewayError({ code: GrpcCode.INTERNAL, reason: Reason.upstreamProtocol, message: `bad gRPC message flags 0x${flags.toString(16)}` });
    }
    const len = ((b[off + 1]! << 24) >>> 0) + (b[off + 2]! << 16) + (b[off + 3]! << 8) + b[off + 4]!;
    if (len > this.#maxBytes) {
      throw new GatewayError({
        code: GrpcCode.RESOURCE_EXHAUSTED,
        reason: Reason.messageTooLarge,
        message: `upstream message of ${len} bytes exceeds the limit of ${this.#maxBytes} bytes (upstream.maxMessageBytes)`,
      });
    }
    return len;
  }
}
