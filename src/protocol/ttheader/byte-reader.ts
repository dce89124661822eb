import { textDecoder } from "../../core/index.ts";
import { protocolError } from "./errors.ts";

/**
 * Big-endian cursor over a byte view (every TTHeader integer is big-endian, §0).
 * Reading past `end` throws a protocol GatewayError; decoders catch it into a Result.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  get pos(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, what: string): void {
    if (this.#end - this.#pos < n) throw protocolError(`truncated ${what}`);
  }

  u8(what = "u8"): number {
    this.#need(1, what);
    return this.#bytes[this.#pos++]!;
  }

  u16(what = "u16"): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(what = "u32"): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  i32(what = "i32"): number {
    this.#need(4, what);
    const v = this.#view.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }

  skip(n: number, what = "bytes"): void {
    this.#need(n, what);
    this.#pos += n;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what = "bytes"): Uint8Array {
    this.#need(n, what);
    const out = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** u16 length + raw bytes, decoded as UTF-8 with replacement (§0 `str16`: no UTF-8 check on the wire). */
  str16(what = "str16"): string {
    const n = this.u16(what);
    return textDecoder.decode(this.bytes(n, what));
  }

  /** u32 length + bytes; the length is checked against what is left before anything is read. */
  str32(what = "str32"): string {
    const n = this.u32(what);
    return textDecoder.decode(this.bytes(n, what));
  }
}

/** Big-endian writer into a pre-sized buffer. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  u8(v: number): void {
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.#view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.#view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }

  i32(v: number): void {
    this.#view.setInt32(this.pos, v | 0);
    this.pos += 4;
  }

  raw(b: Uint8Array): void {
    this.bytes.set(b, this.pos);
    this.pos += b.byteLength;
  }
}
