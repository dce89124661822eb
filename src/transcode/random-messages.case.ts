// Test material for the binary -> JSON writer: a seeded generator of random messages for any
// descriptor (edge values included), wire-level mutations, and a synthetic proto3 file covering
// what the repository's .proto files don't (every map key type, NullValue, unpacked repeated,
// oneof with a message member, recursion, every wrapper, sparse field numbers).
import { create, createFileRegistry, ScalarType, toBinary, type DescField, type DescMessage, type FileRegistry, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/** mulberry32: small, seedable, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ["", "a", "hello", 'quote " and \\ backslash', "line\nbreak\ttab\u0001", "é ü ß", "日本語", "emoji 🚀", "\uFEFFbom", "\u2028\u2029", "x".repeat(70), "ünï".repeat(30), "</script>", "\u007f"];

export class RandomMessages {
  readonly #r: () => number;
  readonly #registry: Registry;
  /** Messages left to generate in the current top-level message (bounds recursive types). */
  #budget = 0;
  constructor(seed: number, registry: Registry) {
    this.#r = rng(seed);
    this.#registry = registry;
  }

  int(n: number): number {
    return Math.floor(this.#r() * n);
  }
  chance(p: number): boolean {
    return this.#r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  scalar(t: ScalarType): unknown {
    switch (t) {
      case ScalarType.DOUBLE:
        return this.pick([0, -0, 1.5, -2.25, 1e300, -1e-300, 5e-324, NaN, Infinity, -Infinity, 0.1, 123456.789, this.#r() * 1e6 - 5e5]);
      case ScalarType.FLOAT:
        return Math.fround(this.pick([0, -0, 1.5, -2.25, 3.4e38, 1e-45, NaN, Infinity, -Infinity, 0.1, this.#r() * 1000]));
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return this.pick([0, 1, -1, 2147483647, -2147483648, 300, -300, this.int(1e6) - 5e5]);
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.pick([0, 1, 127, 128, 4294967295, 2147483648, this.int(1e9)]);
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return this.pick([0n, 1n, -1n, 9007199254740991n, 9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, BigInt(this.int(1e9)) * 1000003n - 500000000000n]);
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return this.pick([0n, 1n, 9007199254740993n, 18446744073709551615n, 9223372036854775808n, BigInt(this.int(1e9)) * 1000003n]);
      case ScalarType.BOOL:
        return this.chance(0.5);
      case ScalarType.STRING:
        return this.pick(STRINGS);
      case ScalarType.BYTES: {
        const b = new Uint8Array(this.pick([0, 1, 2, 3, 4, 17, 100]));
        for (let i = 0; i < b.length; i++) b[i] = this.int(256);
        return b;
      }
    }
  }

  enumValue(f: DescField): number {
    const e = f.enum!;
    if (e.open && this.chance(0.15)) return this.pick([7, 99, -1]);
    return this.pick(e.values).number;
  }

  mapKey(t: ScalarType): string {
    const v = this.scalar(t);
    return typeof v === "boolean" ? String(v) : String(v);
  }

  /** A message init for create(); depth bounds recursion. */
  init(desc: DescMessage, depth: number): Record<string, unknown> {
    switch (desc.typeName) {
      case "google.protobuf.Timestamp":
        return {
          seconds: this.pick([0n, 1n, -1n, 1700000000n, 253402300799n, -62135596800n, BigInt(this.int(2e9))]),
          nanos: this.pick([0, 1, 1000, 1_000_000, 123_000_000, 123_456_000, 999_999_999, this.int(1e9)]),
        };
      case "google.protobuf.Duration": {
        const s = this.pick([0n, 1n, -1n, 315576000000n, -315576000000n, BigInt(this.int(1e6))]);
        const n = this.pick([0, 1, 500_000_000, 1000, 999_999_999, 123_456_000]);
        return { seconds: s, nanos: s < 0n ? -n : s === 0n && this.chance(0.5) ? -n : n };
      }
      case "google.protobuf.Struct":
        return { fields: this.structFields(depth) };
      case "google.protobuf.Value":
        return this.valueInit(depth);
      case "google.protobuf.ListValue":
        return { values: Array.from({ length: this.int(3) }, () => this.valueInit(depth + 1)) };
      case "google.protobuf.FieldMask":
        return { paths: Array.from({ length: this.int(3) }, () => this.pick(["a", "foo_bar", "foo_bar.baz_qux", "x1"])) };
      case "google.protobuf.Any": {
        if (this.chance(0.3)) return {};
        const inner = this.#registry.getMessage("testdata.v1.Inner") ?? this.#registry.getMessage("google.protobuf.Duration")!;
        const msg = create(inner, this.init(inner, depth + 1) as never);
        return { typeUrl: `type.googleapis.com/${inner.typeName}`, value: toBinary(inner, msg) };
      }
    }
    const init: Record<string, unknown> = {};
    this.#budget--;
    for (const f of desc.fields) {
      const required = (f as { presence?: number }).presence === 3;
      if (f.oneof || (!required && this.chance(0.3))) continue;
      const deep = depth >= 3 || this.#budget <= 0;
      if (f.fieldKind === "message" && deep && !required) continue;
      if (f.fieldKind === "list" && f.listKind === "message" && deep) continue;
      if (f.fieldKind === "map" && f.mapKind === "message" && deep) continue;
      init[f.localName] = this.fieldValue(f, depth);
    }
    for (const o of desc.oneofs) {
      const members = o.fields.filter((f) => f.fieldKind !== "message" || (depth < 3 && this.#budget > 0));
      if (members.length === 0 || this.chance(0.3)) continue;
      const f = this.pick(members);
      init[o.localName] = { case: f.localName, value: this.singular(f, depth) };
    }
    return init;
  }

  structFields(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = this.int(3); i > 0; i--) out[this.pick(["a", "b", "1", "0", "key with space", "__proto__", "é"])] = this.valueInit(depth + 1);
    return out;
  }

  valueInit(depth: number): Record<string, unknown> {
    const c = depth >= 3 ? this.int(4) : this.int(6);
    switch (c) {
      case 0:
        return { kind: { case: "nullValue", value: 0 } };
      case 1:
        return { kind: { case: "numberValue", value: this.pick([0, 1.5, -3, 1e21, 123]) } };
      case 2:
        return { kind: { case: "stringValue", value: this.pick(STRINGS) } };
      case 3:
        return { kind: { case: "boolValue", value: this.chance(0.5) } };
      case 4:
        return { kind: { case: "structValue", value: { fields: this.structFields(depth) } } };
      default:
        return { kind: { case: "listValue", value: { values: [this.valueInit(depth + 1)] } } };
    }
  }

  /** protobuf-es's local shape of a message value: Struct as a JSON object, singular wrappers unboxed. */
  messageLocal(f: DescField, m: DescMessage, depth: number): unknown {
    if (m.typeName === "google.protobuf.Struct" && f.parent.typeName !== "google.protobuf.Value") return this.jsonObject(depth);
    if (f.fieldKind === "message" && !f.oneof && m.typeName.startsWith("google.protobuf.") && m.typeName.endsWith("Value") && m.fields.length === 1 && m.fields[0]!.fieldKind === "scalar") {
      return this.scalar(m.fields[0]!.scalar);
    }
    return this.init(m, depth + 1);
  }

  jsonObject(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = this.int(3); i > 0; i--) {
      const k = this.pick(["a", "b", "1", "0", "key with space", "é"]);
      out[k] = depth >= 3 ? this.pick([null, 1, "s", true]) : this.pick([null, 0, 2.5, -1, "x", this.pick(STRINGS), false, [1, "a"], { n: 1 }]);
    }
    return out;
  }

  singular(f: DescField, depth: number): unknown {
    if (f.fieldKind === "enum") return this.enumValue(f);
    if (f.fieldKind === "message") return this.messageLocal(f, f.message, depth);
    if (f.fieldKind === "scalar") return this.scalar(f.scalar);
    throw new Error(`not singular: ${f.name}`);
  }

  fieldValue(f: DescField, depth: number): unknown {
    switch (f.fieldKind) {
      case "list":
        return Array.from({ length: this.int(4) }, () =>
          f.listKind === "enum" ? this.enumValue(f as DescField) : f.listKind === "message" ? this.messageLocal(f, f.message, depth) : this.scalar(f.scalar),
        );
      case "map": {
        const m: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--) {
          const k = this.mapKey(f.mapKey);
          m[k] = f.mapKind === "enum" ? this.enumValue(f as DescField) : f.mapKind === "message" ? this.messageLocal(f, f.message, depth) : this.scalar(f.scalar);
        }
        return m;
      }
      default:
        return this.singular(f, depth);
    }
  }

  /** Serialized random message of `desc`. */
  bytes(desc: DescMessage): Uint8Array {
    this.#budget = 12;
    return toBinary(desc, create(desc, this.init(desc, 0) as never));
  }
}

/** Top-level wire records of a message: [start, end) per field record (no validation beyond what is needed). */
export function records(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let pos = 0;
  const varint = () => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const x = b[pos++]!;
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(x & 0x80)) return r;
    }
  };
  while (pos < b.length) {
    const start = pos;
    const tag = varint();
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const n = varint(); // not `pos += varint()`: that reads pos before varint() moves it
        pos += n;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error("group in test data");
    }
    out.push([start, pos]);
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// --- the synthetic file -------------------------------------------------------------------------

const T = { double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9, message: 11, bytes: 12, uint32: 13, enum: 14, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18 } as const;
const OPTIONAL = 1;
const REPEATED = 3;

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type FieldSpec = [name: string, no: number, type: keyof typeof T, label?: "repeated" | "optional", typeName?: string, extra?: Record<string, unknown>];

function field([name, number, type, label, typeName, extra]: FieldSpec): Record<string, unknown> {
  return { name, number, type: T[type], label: label === "repeated" ? REPEATED : OPTIONAL, jsonName: camel(name), ...(typeName ? { typeName } : {}), ...extra };
}

function mapEntry(name: string, key: keyof typeof T, value: keyof typeof T, valueType?: string): Record<string, unknown> {
  return { name, field: [field(["key", 1, key]), field(["value", 2, value, undefined, valueType])], options: { mapEntry: true } };
}

/** synth.v1.Synth (proto3) in a registry that also holds the WKT files it imports. */
export function syntheticRegistry(base: FileRegistry): FileRegistry {
  const S = ".synth.v1.Synth";
  const E = ".synth.v1.E";
  const maps: [string, number, keyof typeof T, keyof typeof T, string?][] = [
    ["m_i32", 8, "int32", "string"],
    ["m_i64", 9, "int64", "message", S],
    ["m_bool", 10, "bool", "bytes"],
    ["m_u32", 11, "uint32", "enum", E],
    ["m_s32", 12, "sint32", "double"],
    ["m_fx64", 13, "fixed64", "float"],
    ["m_val", 14, "string", "message", ".google.protobuf.Value"],
    ["m_sfx32", 44, "sfixed32", "sint64"],
    ["m_u64", 45, "uint64", "message", ".google.protobuf.Timestamp"],
  ];
  const nested = maps.map(([n, , k, v, vt]) => mapEntry(`${camel(n).replace(/^./, (c) => c.toUpperCase())}Entry`, k, v, vt));
  const fields: FieldSpec[] = [
    ["i32", 1, "int32"],
    ["u32", 2, "uint32"],
    ["s64", 3, "sint64"],
    ["fx32", 4, "fixed32"],
    ["sfx32", 5, "sfixed32"],
    ["sfx64", 6, "sfixed64"],
    ["str", 7, "string"],
    ...maps.map(([n, no], i): FieldSpec => [n, no, "message", "repeated", `${S}.${(nested[i] as { name: string }).name}`]),
    ["unpacked", 15, "int32", "repeated", undefined, { options: { packed: false } }],
    ["floats", 16, "float", "repeated"],
    ["bools", 17, "bool", "repeated"],
    ["u64s", 18, "uint64", "repeated"],
    ["s32s", 19, "sint32", "repeated"],
    ["blobs", 20, "bytes", "repeated"],
    ["nothing", 21, "enum", undefined, ".google.protobuf.NullValue"],
    ["child", 22, "message", undefined, S, { oneofIndex: 0 }],
    ["when", 23, "message", undefined, ".google.protobuf.Timestamp", { oneofIndex: 0 }],
    ["label", 24, "string", undefined, undefined, { oneofIndex: 0 }],
    ["e", 25, "enum", undefined, E, { oneofIndex: 0 }],
    ["times", 26, "message", "repeated", ".google.protobuf.Timestamp"],
    ["dv", 27, "message", undefined, ".google.protobuf.DoubleValue"],
    ["fv", 28, "message", undefined, ".google.protobuf.FloatValue"],
    ["u64v", 29, "message", undefined, ".google.protobuf.UInt64Value"],
    ["u32v", 30, "message", undefined, ".google.protobuf.UInt32Value"],
    ["bv", 31, "message", undefined, ".google.protobuf.BytesValue"],
    ["sv", 32, "message", undefined, ".google.protobuf.StringValue"],
    ["i64v", 33, "message", undefined, ".google.protobuf.Int64Value"],
    ["maybe", 34, "string", undefined, undefined, { proto3Optional: true, oneofIndex: 1 }],
    ["maybe_e", 35, "enum", undefined, E, { proto3Optional: true, oneofIndex: 2 }],
    ["any", 36, "message", undefined, ".google.protobuf.Any"],
    ["list", 37, "message", undefined, ".google.protobuf.ListValue"],
    ["e_plain", 38, "enum", undefined, E],
    ["es", 39, "enum", "repeated", E],
    ["u64", 40, "uint64"],
    ["fx64", 41, "fixed64"],
    ["flt", 42, "float"],
    ["raw", 43, "bytes"],
    ["far_away", 5000, "int32"],
    ["children", 46, "message", "repeated", S],
    ["dur", 47, "message", undefined, ".google.protobuf.Duration"],
    ["bval", 48, "message", undefined, ".google.protobuf.BoolValue"],
    ["i32v", 49, "message", undefined, ".google.protobuf.Int32Value"],
  ];
  const file = create(FileDescriptorProtoSchema, {
    name: "synth/v1/synth.proto",
    package: "synth.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/struct.proto", "google/protobuf/wrappers.proto", "google/protobuf/any.proto"],
    enumType: [{ name: "E", value: [{ name: "E_ZERO", number: 0 }, { name: "E_ONE", number: 1 }, { name: "E_TWO", number: 2 }] }],
    messageType: [
      {
        name: "Synth",
        field: fields.map(field),
        nestedType: nested,
        oneofDecl: [{ name: "pick" }, { name: "_maybe" }, { name: "_maybe_e" }],
      },
    ],
  } as never);
  const synth = createFileRegistry(file, (name) => base.getFile(name));
  return createFileRegistry(base, synth);
}
