// Scalar pieces of the binary -> JSON writer (json-writer.ts): reading one value off the wire and
// writing it as protobuf-es's proto3 JSON would.
import { ScalarType } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import type { FieldPlan } from "./json-plan.ts";
import type { JsonSink } from "./json-sink.ts";
import { int64Text, NotFast, unzigzag64, WireCursor, WireType } from "./wire-cursor.ts";

export const RECURSION_LIMIT = 100; // protobuf-es fromBinary default
export const SCRATCH_MAX = 1 << 20;
export const QUOTE = 0x22;
export const COMMA = 0x2c;

export const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
export const utf8Strict = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

export function writeNumber(out: JsonSink, v: number): void {
  if ((v | 0) === v) out.int(v); // -0 included: JSON.stringify(-0) is "0"
  else if (v === Math.trunc(v) && v > -9007199254740992 && v < 9007199254740992) {
    if (v < 0) out.byte(0x2d);
    out.uint53(v < 0 ? -v : v); // integers below 2^53 print all their digits
  } else if (Number.isFinite(v)) out.double(v);
  else out.ascii(v !== v ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"');
}

export function writeInt64(out: JsonSink, lo: number, hi: number, signed: boolean): void {
  out.byte(QUOTE);
  if (hi >= 0 && hi < 0x200000) out.uint53(hi * 4294967296 + lo); // below 2^53: digits directly
  else out.ascii(int64Text(lo, hi, signed));
  out.byte(QUOTE);
}

/**
 * Reads a string field and checks it as protobuf-es would (strict UTF-8 for proto3). Returns where
 * its bytes start when it is plain ASCII (copied straight from the wire), else its JSON text.
 */
export function readString(c: WireCursor, strict: boolean): number | string {
  const len = c.uint32();
  const start = c.take(len);
  const buf = c.buf;
  for (let i = start, end = start + len; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80 || b < 0x20 || b === 0x22 || b === 0x5c) {
      return JSON.stringify((strict ? utf8Strict : utf8).decode(buf.subarray(start, end)));
    }
  }
  return start;
}

/** Reads one value (validating it) and returns what to keep: its offset, or JSON text for non-plain strings. */
export function readValue(c: WireCursor, f: FieldPlan): number | string {
  const at = c.pos;
  if (f.scalar === ScalarType.STRING) {
    const kept = readString(c, f.strict);
    return typeof kept === "string" ? kept : at;
  }
  if (f.wire === WireType.varint) c.varint64();
  else if (f.wire === WireType.fixed64) c.take(8);
  else if (f.wire === WireType.fixed32) c.take(4);
  else c.take(c.uint32());
  return at;
}

/** Is the value at c.pos the zero value of an implicit-presence field? Advances past it. */
export function readIsZero(c: WireCursor, f: FieldPlan): boolean {
  switch (f.wire) {
    case WireType.varint:
      c.varint64();
      if (f.enumJson) return (c.lo | 0) === f.enumZero;
      // 32-bit types keep the low word only (protobuf-es varint32read); bool and 64-bit types use both.
      if (f.scalar === ScalarType.INT32 || f.scalar === ScalarType.UINT32 || f.scalar === ScalarType.SINT32) return c.lo === 0;
      return c.lo === 0 && c.hi === 0;
    case WireType.fixed64:
      if (f.scalar === ScalarType.DOUBLE) return Object.is(c.double(), 0);
      c.fixed64();
      return c.lo === 0 && c.hi === 0;
    case WireType.fixed32:
      if (f.scalar === ScalarType.FLOAT) return Object.is(c.float(), 0);
      return c.fixed32() === 0;
    default:
      return c.uint32() === 0; // empty string or bytes
  }
}

/** Writes the value of scalar/enum field `f` that starts at `at` (read and checked before). */
export function writeValueAt(out: JsonSink, c: WireCursor, f: FieldPlan, at: number | string): void {
  if (typeof at === "string") return out.text(at);
  c.pos = at;
  c.end = c.buf.length;
  writeValue(out, c, f);
}

/** Reads the value of scalar/enum field `f` at c.pos (within c.end) and writes it. */
export function writeValue(out: JsonSink, c: WireCursor, f: FieldPlan): void {
  if (f.enumJson) {
    const v = c.uint32() | 0;
    if (f.enumJson.isNullValue) return out.ascii("null");
    const name = f.enumJson.names.get(v);
    if (name) out.raw(name, 0, name.length);
    else out.int(v);
    return;
  }
  switch (f.scalar!) {
    case ScalarType.DOUBLE:
      return writeNumber(out, c.double());
    case ScalarType.FLOAT:
      return writeNumber(out, c.float());
    case ScalarType.INT64:
      c.varint64();
      return writeInt64(out, c.lo, c.hi, true);
    case ScalarType.UINT64:
      c.varint64();
      return writeInt64(out, c.lo, c.hi, false);
    case ScalarType.INT32:
      return out.int(c.uint32() | 0);
    case ScalarType.UINT32: {
      const v = c.uint32();
      return v < 2147483648 ? out.int(v) : out.ascii(String(v));
    }
    case ScalarType.SINT32: {
      const v = c.uint32();
      return out.int((v >>> 1) ^ -(v & 1));
    }
    case ScalarType.FIXED32: {
      const v = c.fixed32();
      return v < 2147483648 ? out.int(v) : out.ascii(String(v));
    }
    case ScalarType.SFIXED32:
      return out.int(c.sfixed32());
    case ScalarType.SINT64:
      c.varint64();
      unzigzag64(c);
      return writeInt64(out, c.lo, c.hi, true);
    case ScalarType.FIXED64:
      c.fixed64();
      return writeInt64(out, c.lo, c.hi, false);
    case ScalarType.SFIXED64:
      c.fixed64();
      return writeInt64(out, c.lo, c.hi, true);
    case ScalarType.BOOL:
      c.varint64();
      return out.ascii(c.lo !== 0 || c.hi !== 0 ? "true" : "false");
    case ScalarType.STRING: {
      const kept = readString(c, f.strict);
      if (typeof kept === "string") return out.text(kept);
      out.byte(QUOTE);
      out.raw(c.buf, kept, c.pos);
      return out.byte(QUOTE);
    }
    case ScalarType.BYTES: {
      const len = c.uint32();
      const start = c.take(len);
      out.byte(QUOTE);
      out.ascii(base64Encode(c.buf.subarray(start, start + len)));
      return out.byte(QUOTE);
    }
  }
}

/** Reads a tag; protobuf-es rejects tags over 5 bytes, field 0 and wire types 6 and 7. */
export function readTag(c: WireCursor): number {
  const at = c.pos;
  const tag = c.uint32();
  const n = c.pos - at;
  if (n > 5 || (n === 5 && c.buf[c.pos - 1]! > 0x0f) || tag >>> 3 === 0 || (tag & 7) > 5) throw new NotFast("illegal tag");
  return tag;
}
