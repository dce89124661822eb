// Binary protobuf -> JSON bytes in one pass over the wire format, without building a message object
// or a JS string, with output identical to JSON.stringify(toJson(desc, fromBinary(desc, bytes), o))
// of protobuf-es (as UTF-8). Each message is decoded into slots (last value wins, repeated fields
// append, repeated records of a singular message merge, a new oneof member replaces the previous
// one), then written in field-number order as protobuf-es does; scalar slots hold the wire offset of
// the value, which is read again when written. Anything it can't reproduce exactly (groups, closed
// enums, required fields, extensions, invalid input) is left to protobuf-es, as is each
// Any/Struct/Value/ListValue/FieldMask subtree.
import { fromBinary, ScalarType, toJson, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { createPlanner, FieldKind, WktKind, type FieldPlan, type MessagePlan } from "./json-plan.ts";
import { JsonSink } from "./json-sink.ts";
import { durationText, timestampText } from "./json-wkt.ts";
import { RECURSION_LIMIT, SCRATCH_MAX, COMMA, utf8, utf8Strict, readValue, readIsZero, writeValueAt, writeValue, readTag } from "./json-scalars.ts";
import { int64Number, int64Text, NotFast, unzigzag64, WireCursor, WireType } from "./wire-cursor.ts";

export interface BinaryJsonWriterOptions {
  readonly emitDefaults: boolean;
  readonly useProtoNames: boolean;
}

export interface BinaryJsonWriter {
  /**
   * The JSON text as UTF-8 (between optional ASCII `prefix` and `suffix`, e.g. NDJSON / SSE framing),
   * or undefined when only protobuf-es can produce it exactly (the caller falls back).
   */
  tryWrite(desc: DescMessage, bytes: Uint8Array, prefix?: string, suffix?: string): Uint8Array | undefined;
  /** Messages written directly and messages left to protobuf-es. */
  readonly stats: { fast: number; fallback: number };
}

type Kept = number | string;
type MapSlot = Record<string, Kept | number[]>;

export function createBinaryJsonWriter(registry: Registry, o: BinaryJsonWriterOptions): BinaryJsonWriter {
  const plan = createPlanner(o.useProtoNames);
  const emitDefaults = o.emitDefaults;
  const slowOpts = { registry, alwaysEmitImplicit: o.emitDefaults, useProtoFieldName: o.useProtoNames };
  const stats = { fast: 0, fallback: 0 };

  function unknownField(p: MessagePlan, c: WireCursor, no: number, wt: number): void {
    // protobuf-es writes unknown fields that are known extensions; leave those to it.
    if (registry.getExtensionFor(p.desc, no)) throw new NotFast("extension");
    c.skip(wt);
  }

  /** Writes the message held in ranges [s0, e0, s1, e1, ...] of c.buf (several ranges merge). */
  function writeRanges(out: JsonSink, p: MessagePlan, c: WireCursor, ranges: number[], depth: number): void {
    if (ranges.length === 2) return writeMessage(out, p, c, ranges[0]!, ranges[1]!, depth);
    let total = 0;
    for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
    const joined = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      joined.set(c.buf.subarray(ranges[i]!, ranges[i + 1]!), at);
      at += ranges[i + 1]! - ranges[i]!;
    }
    writeMessage(out, p, new WireCursor(joined), 0, total, depth);
  }

  /** Parses a message that won't be written (protobuf-es still parses it, and would reject it if invalid). */
  function validate(p: MessagePlan, c: WireCursor, ranges: number[], depth: number): void {
    const pos = c.pos;
    const end = c.end;
    writeRanges(new JsonSink(64), p, c, ranges, depth);
    c.pos = pos;
    c.end = end;
  }

  function writeMessage(out: JsonSink, p: MessagePlan, c: WireCursor, start: number, end: number, depth: number): void {
    if (depth > RECURSION_LIMIT) throw new NotFast("recursion limit");
    if (p.unsupported) throw new NotFast(p.unsupported);
    if (p.wkt !== WktKind.none) return writeWkt(out, p, c, start, end, depth);
    if (!p.hasMap) {
      const mark = out.len;
      if (streamMessage(out, p, c, start, end, depth)) return;
      out.len = mark; // records out of order or repeated: start over in slot mode
    }
    slotMessage(out, p, c, start, end, depth);
  }

  function writeDefault(out: JsonSink, f: FieldPlan, first: boolean): boolean {
    if (f.defaultText === undefined || f.oneof >= 0) return first;
    if (!first) out.byte(COMMA);
    out.raw(f.key, 0, f.key.length);
    out.text(f.defaultText);
    return false;
  }

  /**
   * The common case, in one pass: records in field-number order, each field once (a list's records
   * together). Writes as it reads; returns false (output to be discarded) at the first record that
   * breaks that order, a second member of a oneof, or an empty packed list.
   */
  function streamMessage(out: JsonSink, p: MessagePlan, c: WireCursor, start: number, end: number, depth: number): boolean {
    const fields = p.fields;
    let next = 0; // fields before this index are done
    let open = -1; // the list whose "[" is open
    let first = true;
    let oneofs = 0; // bit per oneof already set (beyond 31 oneofs: slot mode)
    if (p.oneofCount > 31) return false;
    out.byte(0x7b);
    c.pos = start;
    c.end = end;
    while (c.pos < end) {
      const tag = readTag(c);
      const no = tag >>> 3;
      const wt = tag & 7;
      const f = p.field(no);
      if (f === undefined) {
        unknownField(p, c, no, wt);
        continue;
      }
      if (f.unsupported) throw new NotFast(f.unsupported);
      const i = f.slot;
      if (i === open) {
        out.byte(COMMA);
        if (!writeListRecord(out, f, c, wt, end, depth)) return false;
        continue;
      }
      if (i < next) return false;
      if (open >= 0) {
        out.byte(0x5d);
        open = -1;
      }
      if (emitDefaults) for (let k = next; k < i; k++) first = writeDefault(out, fields[k]!, first);
      next = i + 1;
      if (f.oneof >= 0) {
        const bit = 1 << f.oneof;
        if (oneofs & bit) return false;
        oneofs |= bit;
      }
      switch (f.kind) {
        case FieldKind.scalar:
        case FieldKind.enum: {
          if (wt !== f.wire) throw new NotFast("wire type");
          if (f.implicit && !emitDefaults) {
            const at = c.pos;
            if (readIsZero(c, f)) break;
            c.pos = at;
          }
          if (!first) out.byte(COMMA);
          first = false;
          out.raw(f.key, 0, f.key.length);
          writeValue(out, c, f);
          break;
        }
        case FieldKind.message: {
          if (wt !== WireType.len) throw new NotFast("wire type");
          const len = c.uint32();
          const s = c.take(len);
          if (!first) out.byte(COMMA);
          first = false;
          out.raw(f.key, 0, f.key.length);
          writeMessage(out, plan(f.messageDesc!), c, s, s + len, depth + 1);
          c.pos = s + len;
          c.end = end;
          break;
        }
        case FieldKind.list: {
          if (!first) out.byte(COMMA);
          first = false;
          out.raw(f.key, 0, f.key.length);
          out.byte(0x5b);
          open = i;
          if (!writeListRecord(out, f, c, wt, end, depth)) return false;
          break;
        }
        default:
          return false;
      }
    }
    if (open >= 0) out.byte(0x5d);
    if (emitDefaults) for (let k = next; k < fields.length; k++) first = writeDefault(out, fields[k]!, first);
    out.byte(0x7d);
    return true;
  }

  /** One record of a list field: a message, one value, or a packed run (which must not be empty). */
  function writeListRecord(out: JsonSink, f: FieldPlan, c: WireCursor, wt: number, end: number, depth: number): boolean {
    if (f.messageDesc) {
      if (wt !== WireType.len) throw new NotFast("wire type");
      const len = c.uint32();
      const s = c.take(len);
      writeMessage(out, plan(f.messageDesc), c, s, s + len, depth + 1);
      c.pos = s + len;
      c.end = end;
    } else if (wt === WireType.len && f.packable) {
      const len = c.uint32();
      if (len === 0) return false;
      const packedEnd = c.pos + len;
      c.take(len);
      c.pos = packedEnd - len;
      c.end = packedEnd;
      for (let k = 0; c.pos < packedEnd; k++) {
        if (k > 0) out.byte(COMMA);
        writeValue(out, c, f);
      }
      c.end = end;
    } else if (wt === f.wire) {
      writeValue(out, c, f);
    } else {
      throw new NotFast("wire type");
    }
    return true;
  }

  /** Any record order: decode into slots, then write in field-number order. */
  function slotMessage(out: JsonSink, p: MessagePlan, c: WireCursor, start: number, end: number, depth: number): void {
    const fields = p.fields;
    const slots: unknown[] = new Array(fields.length);
    const cases: number[] | undefined = p.oneofCount > 0 ? new Array(p.oneofCount).fill(-1) : undefined;
    c.pos = start;
    c.end = end;
    while (c.pos < end) {
      const tag = readTag(c);
      const no = tag >>> 3;
      const wt = tag & 7;
      const f = p.field(no);
      if (f === undefined) {
        unknownField(p, c, no, wt);
        continue;
      }
      if (f.unsupported) throw new NotFast(f.unsupported);
      const slot = f.slot;
      if (f.oneof >= 0) {
        const prev = cases![f.oneof]!;
        if (prev !== slot) {
          if (prev >= 0) {
            // protobuf-es parsed the member being replaced; so must we, in case it is invalid.
            if (fields[prev]!.kind === FieldKind.message && slots[prev] !== undefined) {
              validate(plan(fields[prev]!.messageDesc!), c, slots[prev] as number[], depth + 1);
            }
            slots[prev] = undefined;
          }
          cases![f.oneof] = slot;
        }
      }
      switch (f.kind) {
        case FieldKind.scalar:
        case FieldKind.enum: {
          if (wt !== f.wire) throw new NotFast("wire type");
          if (f.implicit) {
            const at = c.pos;
            if (readIsZero(c, f)) {
              slots[slot] = undefined;
              break;
            }
            c.pos = at;
          }
          slots[slot] = readValue(c, f);
          break;
        }
        case FieldKind.message: {
          if (wt !== WireType.len) throw new NotFast("wire type");
          const len = c.uint32();
          const s = c.take(len);
          const r = slots[slot] as number[] | undefined;
          if (r) r.push(s, s + len);
          else slots[slot] = [s, s + len];
          break;
        }
        case FieldKind.list: {
          let items = slots[slot] as Kept[] | undefined;
          if (!items) slots[slot] = items = [];
          if (f.messageDesc) {
            if (wt !== WireType.len) throw new NotFast("wire type");
            const len = c.uint32();
            const s = c.take(len);
            items.push(s, s + len);
          } else if (wt === WireType.len && f.packable) {
            const len = c.uint32();
            const packedEnd = c.pos + len;
            c.take(len);
            c.pos = packedEnd - len;
            c.end = packedEnd;
            while (c.pos < packedEnd) items.push(readValue(c, f));
            c.end = end;
          } else if (wt === f.wire) {
            items.push(readValue(c, f));
          } else {
            throw new NotFast("wire type");
          }
          break;
        }
        case FieldKind.map: {
          if (wt !== WireType.len) throw new NotFast("wire type");
          let m = slots[slot] as MapSlot | undefined;
          if (!m) slots[slot] = m = Object.create(null) as MapSlot;
          readMapEntry(f, c, m, depth);
          c.end = end;
          break;
        }
      }
    }

    out.byte(0x7b);
    let first = true;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.oneof >= 0 && cases![f.oneof] !== i) continue;
      const v = slots[i];
      if (v === undefined) {
        if (!emitDefaults || f.defaultText === undefined) continue;
        if (!first) out.byte(COMMA);
        first = false;
        out.raw(f.key, 0, f.key.length);
        out.text(f.defaultText);
        continue;
      }
      if (f.kind === FieldKind.list && (v as Kept[]).length === 0 && !emitDefaults) continue;
      if (!first) out.byte(COMMA);
      first = false;
      out.raw(f.key, 0, f.key.length);
      switch (f.kind) {
        case FieldKind.scalar:
        case FieldKind.enum:
          writeValueAt(out, c, f, v as Kept);
          break;
        case FieldKind.message:
          writeRanges(out, plan(f.messageDesc!), c, v as number[], depth + 1);
          break;
        case FieldKind.list: {
          const items = v as Kept[];
          out.byte(0x5b);
          if (f.messageDesc) {
            const ip = plan(f.messageDesc);
            for (let j = 0; j < items.length; j += 2) {
              if (j > 0) out.byte(COMMA);
              writeMessage(out, ip, c, items[j] as number, items[j + 1] as number, depth + 1);
            }
          } else {
            for (let j = 0; j < items.length; j++) {
              if (j > 0) out.byte(COMMA);
              writeValueAt(out, c, f, items[j]!);
            }
          }
          out.byte(0x5d);
          break;
        }
        default:
          writeMap(out, f, c, v as MapSlot, depth);
      }
    }
    out.byte(0x7d);
  }

  function readMapEntry(f: FieldPlan, c: WireCursor, m: MapSlot, depth: number): void {
    const len = c.uint32();
    const start = c.take(len);
    const end = start + len;
    c.pos = start;
    c.end = end;
    let key: string | undefined;
    let value: Kept | number[] | undefined;
    while (c.pos < end) {
      const tag = readTag(c);
      const no = tag >>> 3;
      const wt = tag & 7;
      if (no === 1) {
        if (wt !== f.mapKeyWire) throw new NotFast("wire type");
        key = mapKey(c, f);
      } else if (no === 2) {
        if (wt !== f.wire) throw new NotFast("wire type");
        if (f.messageDesc) {
          const l = c.uint32();
          const s = c.take(l);
          // A repeated value within one entry merges, like any singular message field.
          if (Array.isArray(value)) value.push(s, s + l);
          else value = [s, s + l];
        } else {
          value = readValue(c, f);
        }
      } else {
        c.skip(wt);
      }
    }
    if (key === undefined) key = f.mapKey === ScalarType.BOOL ? "false" : f.mapKey === ScalarType.STRING ? "" : "0";
    const old = m[key];
    // A repeated key replaces the entry; protobuf-es parsed the old value, so must we.
    if (Array.isArray(old)) validate(plan(f.messageDesc!), c, old, depth + 1);
    // An absent value is the zero value (its JSON text), or an empty message (an empty range).
    m[key] = value ?? (f.messageDesc ? [end, end] : f.zeroText);
  }

  /** The map key as protobuf-es stores it: an object key string. */
  function mapKey(c: WireCursor, f: FieldPlan): string {
    switch (f.mapKey!) {
      case ScalarType.STRING: {
        const len = c.uint32();
        const s = c.take(len);
        return (f.strict ? utf8Strict : utf8).decode(c.buf.subarray(s, s + len));
      }
      case ScalarType.BOOL:
        c.varint64();
        return c.lo !== 0 || c.hi !== 0 ? "true" : "false";
      case ScalarType.INT32:
        return String(c.uint32() | 0);
      case ScalarType.UINT32:
        return String(c.uint32());
      case ScalarType.SINT32: {
        const v = c.uint32();
        return String((v >>> 1) ^ -(v & 1));
      }
      case ScalarType.FIXED32:
        return String(c.fixed32());
      case ScalarType.SFIXED32:
        return String(c.sfixed32());
      case ScalarType.INT64:
        c.varint64();
        return int64Text(c.lo, c.hi, true);
      case ScalarType.UINT64:
        c.varint64();
        return int64Text(c.lo, c.hi, false);
      case ScalarType.SINT64:
        c.varint64();
        unzigzag64(c);
        return int64Text(c.lo, c.hi, true);
      case ScalarType.FIXED64:
        c.fixed64();
        return int64Text(c.lo, c.hi, false);
      case ScalarType.SFIXED64:
        c.fixed64();
        return int64Text(c.lo, c.hi, true);
    }
    throw new NotFast("map key type");
  }

  function writeMap(out: JsonSink, f: FieldPlan, c: WireCursor, m: MapSlot, depth: number): void {
    const keys = Object.keys(m);
    const vp = f.messageDesc ? plan(f.messageDesc) : undefined;
    out.byte(0x7b);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const v = m[k]!;
      if (i > 0) out.byte(COMMA);
      out.text(JSON.stringify(k));
      out.byte(0x3a);
      if (vp) writeRanges(out, vp, c, v as number[], depth + 1);
      else writeValueAt(out, c, f, v as Kept);
    }
    out.byte(0x7d);
  }

  function writeWkt(out: JsonSink, p: MessagePlan, c: WireCursor, start: number, end: number, depth: number): void {
    if (p.wkt === WktKind.slow) {
      // Left to protobuf-es; its recursion limit counts from this depth, as in a whole-message parse.
      const msg = fromBinary(p.desc, c.buf.subarray(start, end), { recursionLimit: RECURSION_LIMIT + 1 - depth });
      return out.text(JSON.stringify(toJson(p.desc, msg, slowOpts)));
    }
    c.pos = start;
    c.end = end;
    let value: Kept | undefined;
    let sLo = 0;
    let sHi = 0;
    let nanos = 0;
    while (c.pos < end) {
      const tag = readTag(c);
      const no = tag >>> 3;
      const wt = tag & 7;
      const f = p.field(no);
      if (f === undefined) {
        unknownField(p, c, no, wt);
      } else if (wt !== f.wire) {
        throw new NotFast("wire type");
      } else if (p.wkt === WktKind.wrapper) {
        value = readValue(c, f);
      } else if (no === 1) {
        c.varint64();
        sLo = c.lo;
        sHi = c.hi;
      } else {
        nanos = c.uint32() | 0;
      }
    }
    if (p.wkt === WktKind.wrapper) {
      const f = p.field(1)!;
      return value === undefined ? out.text(f.zeroText) : writeValueAt(out, c, f, value);
    }
    if (p.wkt === WktKind.timestamp) return out.ascii(timestampText(int64Number(sLo, sHi), nanos));
    out.ascii(durationText(int64Number(sLo, sHi), int64Text(sLo, sHi, true), nanos));
  }

  // One scratch buffer, reused by every call (writing is synchronous), so a reply costs one
  // exact-size allocation: the result. Buffers grown past SCRATCH_MAX are not kept.
  let scratch: Uint8Array = new Uint8Array(64 * 1024);

  return {
    stats,
    tryWrite(desc, bytes, prefix, suffix) {
      try {
        const out = new JsonSink(scratch);
        if (prefix) out.ascii(prefix);
        writeMessage(out, plan(desc), new WireCursor(bytes), 0, bytes.byteLength, 1);
        if (suffix) out.ascii(suffix);
        if (out.buf !== scratch && out.buf.length <= SCRATCH_MAX) scratch = out.buf;
        stats.fast++;
        return out.result();
      } catch {
        // NotFast, or input protobuf-es will judge (and report) itself.
        stats.fallback++;
        return undefined;
      }
    },
  };
}
