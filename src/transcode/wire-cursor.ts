// A bounds-checked reader over the protobuf wire format (https://protobuf.dev/programming-guides/encoding/),
// for the direct binary -> JSON writer. Every read stays inside the current message: anything the
// reader can't take exactly as protobuf-es would (truncation, overlong varints, groups) throws
// NotFast, and the caller falls back to protobuf-es, which then decides (and reports) what it is.

/** Thrown when the fast path can't reproduce protobuf-es output exactly; never escapes the writer. */
export class NotFast extends Error {
  constructor(why: string) {
    super(why);
    this.name = "NotFast";
  }
}

export const WireType = { varint: 0, fixed64: 1, len: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

const TWO_32 = 4294967296;

export class WireCursor {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  /** End of the message being read (exclusive). */
  end: number;
  /** Words of the last varint64 read. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.byteLength;
  }

  /** Unsigned 32-bit varint (the low 32 bits of up to 10 bytes, as protobuf-es varint32read). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    let r = b & 0x7f;
    if (b & 0x80) {
      b = buf[pos++]!;
      r |= (b & 0x7f) << 7;
      if (b & 0x80) {
        b = buf[pos++]!;
        r |= (b & 0x7f) << 14;
        if (b & 0x80) {
          b = buf[pos++]!;
          r |= (b & 0x7f) << 21;
          if (b & 0x80) {
            b = buf[pos++]!;
            r |= (b & 0x0f) << 28;
            for (let n = 5; b & 0x80; n++) {
              if (n === 10) throw new NotFast("varint longer than 10 bytes");
              b = buf[pos++]!;
            }
          }
        }
      }
    }
    if (pos > this.end) throw new NotFast("truncated varint");
    this.pos = pos;
    return r >>> 0;
  }

  /** 64-bit varint into lo/hi (same bit layout as protobuf-es varint64read). */
  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    let done = false;
    for (let shift = 0; shift < 28; shift += 7) {
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        done = true;
        break;
      }
    }
    if (!done) {
      b = buf[pos++]!;
      lo |= (b & 0x0f) << 28;
      hi = (b & 0x70) >> 4;
      if (b & 0x80) {
        for (let shift = 3; shift <= 31; shift += 7) {
          b = buf[pos++]!;
          hi |= (b & 0x7f) << shift;
          if ((b & 0x80) === 0) {
            done = true;
            break;
          }
        }
        if (!done) throw new NotFast("varint longer than 10 bytes");
      }
    }
    if (pos > this.end) throw new NotFast("truncated varint");
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi | 0;
  }

  /** Advances over n bytes and returns where they start. */
  take(n: number): number {
    const start = this.pos;
    if (start + n > this.end) throw new NotFast("truncated field");
    this.pos = start + n;
    return start;
  }

  fixed32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  sfixed32(): number {
    return this.view.getInt32(this.take(4), true);
  }
  float(): number {
    return this.view.getFloat32(this.take(4), true);
  }
  double(): number {
    return this.view.getFloat64(this.take(8), true);
  }
  /** fixed64 / sfixed64 into lo/hi. */
  fixed64(): void {
    const at = this.take(8);
    this.lo = this.view.getUint32(at, true);
    this.hi = this.view.getInt32(at + 4, true);
  }

  /** Skips one field's value. Groups are left to protobuf-es. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.varint64();
        return;
      case WireType.fixed64:
        this.take(8);
        return;
      case WireType.len:
        this.take(this.uint32());
        return;
      case WireType.fixed32:
        this.take(4);
        return;
      default:
        throw new NotFast(`wire type ${wireType}`);
    }
  }
}

/** Decimal text of a 64-bit integer given as two 32-bit words, as protobuf-es prints it. */
export function int64Text(lo: number, hi: number, signed: boolean): string {
  if (signed) {
    // |value| < 2^53: exact in a double.
    if (hi >= -0x200000 && hi < 0x200000) return String(hi * TWO_32 + lo);
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo)).toString();
  }
  const h = hi >>> 0;
  if (h < 0x200000) return String(h * TWO_32 + lo);
  return ((BigInt(h) << 32n) | BigInt(lo)).toString();
}

/** The value of a 64-bit integer as a double (approximate beyond 2^53; used for range checks only). */
export function int64Number(lo: number, hi: number): number {
  return hi * TWO_32 + lo;
}

/** Zig-zag decoding of a sint64 held in lo/hi (https://protobuf.dev/programming-guides/encoding/#signed-ints). */
export function unzigzag64(c: WireCursor): void {
  const s = -(c.lo & 1);
  const lo = ((c.lo >>> 1) | ((c.hi & 1) << 31)) ^ s;
  const hi = (c.hi >>> 1) ^ s;
  c.lo = lo >>> 0;
  c.hi = hi | 0;
}
