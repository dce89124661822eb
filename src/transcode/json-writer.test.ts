// The direct binary -> JSON writer must print exactly what protobuf-es prints
// (JSON.stringify(toJson(fromBinary(...)))), for every field kind, every option, and any input:
// random messages of every descriptor, reordered / duplicated / merged wire records, unknown
// fields, and corrupted bytes (where it must leave the verdict to protobuf-es).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary, toJson, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { MethodOptionsSchema } from "@bufbuild/protobuf/wkt";
import { createBinaryJsonWriter, type BinaryJsonWriter } from "./json-writer.ts";
import { concat, RandomMessages, records, syntheticRegistry } from "./random-messages.case.ts";
import { registryFromDescriptorSets } from "./registry.ts";

const base = registryFromDescriptorSets([readFileSync(new URL("../../idl/test-descriptors.binpb", import.meta.url))]);
const registry: FileRegistry = syntheticRegistry(base);
const msg = (name: string): DescMessage => registry.getMessage(name)!;

const OPTIONS = [
  { emitDefaults: false, useProtoNames: false },
  { emitDefaults: true, useProtoNames: false },
  { emitDefaults: false, useProtoNames: true },
  { emitDefaults: true, useProtoNames: true },
];
const text = new TextDecoder();
const writers = OPTIONS.map((o) => ({ o, w: createBinaryJsonWriter(registry, o) }));

/** protobuf-es's text, or undefined when it throws. */
function reference(desc: DescMessage, bytes: Uint8Array, o: (typeof OPTIONS)[number]): string | undefined {
  try {
    return JSON.stringify(toJson(desc, fromBinary(desc, bytes), { registry, alwaysEmitImplicit: o.emitDefaults, useProtoFieldName: o.useProtoNames }));
  } catch {
    return undefined;
  }
}

/** Checks one input under every option; returns how many times the fast path answered. */
function check(desc: DescMessage, bytes: Uint8Array, label: string): number {
  let fast = 0;
  for (const { o, w } of writers) {
    const want = reference(desc, bytes, o);
    const out = w.tryWrite(desc, bytes);
    const got = out === undefined ? undefined : text.decode(out);
    if (got !== undefined) fast++;
    if (want === undefined) {
      if (got !== undefined) throw new Error(`${label} ${JSON.stringify(o)}: protobuf-es rejects the input but the writer printed ${got.slice(0, 200)}`);
    } else if (got !== undefined && got !== want) {
      expect({ label, options: o, got }).toEqual({ label, options: o, got: want });
    }
  }
  return fast;
}

const ALL = [...registry].filter((t): t is DescMessage => t.kind === "message" && !t.typeName.endsWith("Entry"));

describe("binary -> JSON writer equals protobuf-es toJson + JSON.stringify", () => {
  test("testdata.v1.AllTypes: 3,000 random messages, all options, fast path answers", () => {
    const r = new RandomMessages(1, registry);
    const desc = msg("testdata.v1.AllTypes");
    let fast = 0;
    for (let i = 0; i < 3000; i++) fast += check(desc, r.bytes(desc), `AllTypes #${i}`);
    // Only out-of-range Timestamp/Duration values (protobuf-es refuses them) may fall back.
    expect(fast).toBeGreaterThan(3000 * 4 * 0.8);
  }, 30_000);

  test("synth.v1.Synth (map key types, NullValue, unpacked, oneof message, wrappers, recursion): 1,000 random messages", () => {
    const r = new RandomMessages(2, registry);
    const desc = msg("synth.v1.Synth");
    let fast = 0;
    for (let i = 0; i < 1000; i++) fast += check(desc, r.bytes(desc), `Synth #${i}`);
    expect(fast).toBeGreaterThan(1000 * 4 * 0.5);
  }, 30_000);

  test(`every message type in the test descriptors (${ALL.length}), 40 random messages each`, () => {
    const r = new RandomMessages(3, registry);
    let fast = 0;
    let total = 0;
    for (const desc of ALL) {
      for (let i = 0; i < 40; i++) {
        fast += check(desc, r.bytes(desc), `${desc.typeName} #${i}`);
        total += 4;
      }
    }
    expect(fast).toBeGreaterThan(total * 0.5);
  }, 30_000);

  test("wire variations: shuffled and duplicated records, merged messages, unknown fields", () => {
    const r = new RandomMessages(4, registry);
    let fast = 0;
    for (const name of ["testdata.v1.AllTypes", "synth.v1.Synth", "test.v1.ListBooksRequest", "market.v1.GetKLinesResponse"]) {
      const desc = msg(name);
      for (let i = 0; i < 200; i++) {
        const a = r.bytes(desc);
        const recs = records(a).map(([s, e]) => a.subarray(s, e));
        // Shuffle and duplicate some records: last value wins, messages merge, oneofs switch, lists append.
        const shuffled = recs.concat(recs.filter(() => r.chance(0.3))).sort(() => r.int(3) - 1);
        fast += check(desc, concat(...shuffled), `${name} shuffled #${i}`);
        // Two messages back to back = their merge (protobuf encoding spec).
        fast += check(desc, concat(a, r.bytes(desc)), `${name} merged #${i}`);
        // Unknown fields of every wire type.
        const unknown = new Uint8Array([0xf8, 0x3e, 0x96, 0x01, 0xf9, 0x3e, 1, 2, 3, 4, 5, 6, 7, 8, 0xfa, 0x3e, 2, 0x61, 0x62, 0xfd, 0x3e, 9, 9, 9, 9]);
        fast += check(desc, concat(a, unknown), `${name} unknown #${i}`);
      }
    }
    expect(fast).toBeGreaterThan(4 * 200 * 3 * 4 * 0.5);
  }, 30_000);

  test("corrupted bytes: the writer never prints where protobuf-es refuses, and agrees where it accepts", () => {
    const r = new RandomMessages(5, registry);
    for (const name of ["testdata.v1.AllTypes", "synth.v1.Synth", "market.v1.Quote"]) {
      const desc = msg(name);
      for (let i = 0; i < 500; i++) {
        const b = r.bytes(desc).slice();
        if (b.length === 0) continue;
        if (r.chance(0.5)) {
          for (let k = 1 + r.int(3); k > 0; k--) b[r.int(b.length)] = r.int(256);
          check(desc, b, `${name} flipped #${i}`);
        } else {
          check(desc, b.subarray(0, r.int(b.length)), `${name} truncated #${i}`);
        }
      }
    }
  }, 30_000);
});

describe("binary -> JSON writer edge cases", () => {
  const fastOnly = (w: BinaryJsonWriter, desc: DescMessage, bytes: Uint8Array) => {
    const out = w.tryWrite(desc, bytes);
    const got = out === undefined ? undefined : text.decode(out);
    expect(got).toBeDefined();
    return got!;
  };
  const w = writers[0]!.w;
  const all = msg("testdata.v1.AllTypes");

  test("numbers: -0, NaN, infinities, int64 extremes, float rounding", () => {
    const m = create(all, { dbl: -0, flt: Math.fround(0.1), i64: -9223372036854775808n, u64: 18446744073709551615n, s32: -2147483648, f64: 9007199254740993n, inners: [] } as never);
    const bytes = toBinary(all, m);
    expect(fastOnly(w, all, bytes)).toBe(reference(all, bytes, OPTIONS[0]!)!);
    for (const v of [NaN, Infinity, -Infinity]) {
      const b = toBinary(all, create(all, { dbl: v } as never));
      expect(fastOnly(w, all, b)).toBe(reference(all, b, OPTIONS[0]!)!);
    }
  });

  test("an int32 sent as a 10-byte varint keeps its low word: 2^32 is zero and is omitted", () => {
    const desc = msg("testdata.v1.GetThingRequest");
    const b = new Uint8Array([0x18, 0x80, 0x80, 0x80, 0x80, 0x10]); // page_size (3) = 2^32
    expect(reference(desc, b, OPTIONS[0]!)).toBe("{}");
    expect(fastOnly(w, desc, b)).toBe("{}");
    const b2 = new Uint8Array([0x18, 0x85, 0x80, 0x80, 0x80, 0x10]); // 2^32 + 5
    expect(fastOnly(w, desc, b2)).toBe(reference(desc, b2, OPTIONS[0]!)!);
    expect(JSON.parse(reference(desc, b2, OPTIONS[0]!)!)).toEqual({ pageSize: 5 });
  });

  test("oneof: a message member, another member, then the message member again: no merge with the first", () => {
    const synth = msg("synth.v1.Synth");
    const part = (init: Record<string, unknown>) => toBinary(synth, create(synth, init as never));
    const b = concat(
      part({ pick: { case: "child", value: { i32: 1 } } }),
      part({ pick: { case: "label", value: "x" } }),
      part({ pick: { case: "child", value: { u32: 2 } } }),
      part({ pick: { case: "child", value: { str: "s" } } }),
    );
    const want = reference(synth, b, OPTIONS[0]!)!;
    expect(JSON.parse(want)).toEqual({ child: { u32: 2, str: "s" } });
    expect(fastOnly(w, synth, b)).toBe(want);
  });

  test("invalid UTF-8 in a proto3 string: protobuf-es refuses, the writer defers", () => {
    // field 10 (tags), length 2, bytes 0xc3 0x28 (invalid sequence)
    const b = new Uint8Array([0x52, 0x02, 0xc3, 0x28]);
    expect(reference(all, b, OPTIONS[0]!)).toBeUndefined();
    expect(w.tryWrite(all, b)).toBeUndefined();
  });

  test("out-of-range Timestamp: the writer defers (protobuf-es throws)", () => {
    const b = toBinary(all, create(all, { at: { seconds: 253402300800n, nanos: 0 } } as never));
    expect(reference(all, b, OPTIONS[0]!)).toBeUndefined();
    expect(w.tryWrite(all, b)).toBeUndefined();
  });

  test("a known extension in unknown fields is left to protobuf-es (which prints it)", () => {
    const desc = MethodOptionsSchema;
    const rule = registry.getMessage("google.api.HttpRule")!;
    const ruleBytes = toBinary(rule, create(rule, { pattern: { case: "get", value: "/v1/x" } } as never));
    // MethodOptions field 72295728 = google.api.http, length-delimited.
    const tag = [0x82, 0xd3, 0xe4, 0x93, 0x02];
    const b = concat(new Uint8Array(tag), new Uint8Array([ruleBytes.length]), ruleBytes);
    const want = reference(desc, b, OPTIONS[0]!);
    expect(want).toContain("google.api.http");
    const stats = { ...w.stats };
    expect(w.tryWrite(desc, b)).toBeUndefined();
    expect(w.stats.fallback).toBe(stats.fallback + 1);
  });

  test("proto2 closed enum with an unknown value and required fields defer; proto2 optionals are written", () => {
    const fdp = registry.getMessage("google.protobuf.FieldDescriptorProto")!;
    // field 5 (type, closed enum Type) = 99: protobuf-es keeps it as an unknown field.
    const closed = new Uint8Array([0x28, 0x63]);
    expect(reference(fdp, closed, OPTIONS[0]!)).toBe("{}");
    expect(w.tryWrite(fdp, closed)).toBeUndefined();
    const np = registry.getMessage("google.protobuf.UninterpretedOption.NamePart")!;
    expect(w.tryWrite(np, new Uint8Array([0x0a, 0x01, 0x61, 0x10, 0x01]))).toBeUndefined();
    const ok = toBinary(fdp, create(fdp, { name: "x", number: 0, jsonName: "" } as never));
    expect(fastOnly(w, fdp, ok)).toBe(reference(fdp, ok, OPTIONS[0]!)!);
    expect(JSON.parse(reference(fdp, ok, OPTIONS[0]!)!)).toEqual({ name: "x", number: 0, jsonName: "" });
  });

  test("a large KLines reply (1,000 candles) is written directly and identically", () => {
    const desc = msg("market.v1.GetKLinesResponse");
    const klines = Array.from({ length: 1000 }, (_, i) => ({
      openTime: 1700000000000n + BigInt(i) * 60000n,
      open: 64000 + i * 0.37,
      high: 64010.5 + i,
      low: 63990.25 - i,
      close: 64005.125,
      volume: 12.3456789 * (i + 1),
      closeTime: 1700000059999n + BigInt(i) * 60000n,
      trades: BigInt(100 + i),
      quoteVolume: 790123.456 + i,
    }));
    const b = toBinary(desc, create(desc, { symbol: "BTCUSDT", interval: "1m", klines } as never));
    const text = fastOnly(w, desc, b);
    expect(text).toBe(reference(desc, b, OPTIONS[0]!)!);
    expect(text.length).toBeGreaterThan(150_000);
  });
});
