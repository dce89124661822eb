// Per-message plans for the direct binary -> JSON writer: fields sorted by number (protobuf-es toJson
// writes them in that order), their JSON keys, wire types, presence and defaults, computed once.
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { WireType } from "./wire-cursor.ts";

export const FieldKind = { scalar: 0, enum: 1, message: 2, list: 3, map: 4 } as const;
/** Messages with their own JSON form (https://protobuf.dev/programming-guides/json/). */
export const WktKind = { none: 0, timestamp: 1, duration: 2, wrapper: 3, slow: 4 } as const;

export interface EnumJson {
  /** JSON text of known values, as UTF-8; unknown values print as numbers. */
  readonly names: ReadonlyMap<number, Uint8Array>;
  readonly isNullValue: boolean;
}

export interface FieldPlan {
  readonly number: number;
  /** Index in the message's sorted field list (and its slot while decoding). */
  readonly slot: number;
  /** `"name":` as UTF-8. */
  readonly key: Uint8Array;
  readonly kind: number;
  /** Scalar type of the value (singular, list item or map value). */
  readonly scalar: ScalarType | undefined;
  readonly isFloat: boolean;
  /** Wire type of one value. */
  readonly wire: number;
  /** Lists of numbers, bools and enums may come packed in one length-delimited record. */
  readonly packable: boolean;
  /** Implicit presence: the zero value is not written (unless emitDefaults). */
  readonly implicit: boolean;
  /** Index of the (real) oneof this field belongs to, or -1. */
  readonly oneof: number;
  readonly enumJson: EnumJson | undefined;
  /** Zero value of an implicit enum field. */
  readonly enumZero: number;
  /** Reject invalid UTF-8 in strings, as protobuf-es does for proto3. */
  readonly strict: boolean;
  /** JSON text of the zero value of a singular scalar/enum (for the implicit-presence test and map defaults). */
  readonly zeroText: string;
  /** Text written for an absent field when emitDefaults is on, or undefined (explicit presence). */
  readonly defaultText: string | undefined;
  /** List items or map values that are messages; message fields. */
  readonly messageDesc: DescMessage | undefined;
  readonly mapKey: ScalarType | undefined;
  readonly mapKeyWire: number;
  /** Set when only protobuf-es can read this field (groups, closed enums). */
  readonly unsupported: string | undefined;
}

export interface MessagePlan {
  readonly desc: DescMessage;
  readonly fields: readonly FieldPlan[];
  readonly oneofCount: number;
  /** Map fields need the slot mode (keys dedupe and reorder). */
  readonly hasMap: boolean;
  readonly wkt: number;
  /** Set when only protobuf-es can write this message (required fields). */
  readonly unsupported: string | undefined;
  field(no: number): FieldPlan | undefined;
}

const WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map((t) => `google.protobuf.${t}Value`),
);
const SLOW_WKT = new Set(["Any", "Struct", "Value", "ListValue", "FieldMask"].map((t) => `google.protobuf.${t}`));
const IMPLICIT = 2; // google.protobuf.FeatureSet.FieldPresence
const LEGACY_REQUIRED = 3;

export function wktKind(desc: DescMessage): number {
  const t = desc.typeName;
  if (!t.startsWith("google.protobuf.")) return WktKind.none;
  if (t === "google.protobuf.Timestamp") return WktKind.timestamp;
  if (t === "google.protobuf.Duration") return WktKind.duration;
  if (SLOW_WKT.has(t)) return WktKind.slow;
  const f = desc.fields[0];
  if (WRAPPERS.has(t) && f !== undefined && f.fieldKind === "scalar" && f.name === "value" && f.number === 1) return WktKind.wrapper;
  return WktKind.none;
}

export function wireTypeOf(t: ScalarType): number {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.fixed64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.fixed32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.len;
    default:
      return WireType.varint;
  }
}

export function scalarZeroText(t: ScalarType): string {
  switch (t) {
    case ScalarType.BOOL:
      return "false";
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return '""';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '"0"'; // 64-bit integers are JSON strings
    default:
      return "0";
  }
}

const utf8 = new TextEncoder();
const decoder = new TextDecoder();

const enumCache = new WeakMap<DescEnum, EnumJson>();
function enumJson(e: DescEnum): EnumJson {
  let j = enumCache.get(e);
  if (!j) {
    const names = new Map<number, Uint8Array>();
    for (const v of e.values) if (!names.has(v.number)) names.set(v.number, utf8.encode(JSON.stringify(e.value[v.number]!.jsonName)));
    j = { names, isNullValue: e.typeName === "google.protobuf.NullValue" };
    enumCache.set(e, j);
  }
  return j;
}

/** JSON text of an enum value (for defaults; the writer writes the bytes). */
export function enumText(j: EnumJson, v: number): string {
  if (j.isNullValue) return "null";
  const b = j.names.get(v);
  return b ? decoder.decode(b) : String(v);
}

function planField(f: DescField, slot: number, oneofIndex: ReadonlyMap<unknown, number>, useProtoNames: boolean): FieldPlan {
  const key = utf8.encode(JSON.stringify(useProtoNames ? f.name : f.jsonName) + ":");
  let scalar: ScalarType | undefined;
  let en: DescEnum | undefined;
  let messageDesc: DescMessage | undefined;
  let mapKey: ScalarType | undefined;
  let kind: number;
  let unsupported: string | undefined;
  switch (f.fieldKind) {
    case "scalar":
      kind = FieldKind.scalar;
      scalar = f.scalar;
      break;
    case "enum":
      kind = FieldKind.enum;
      en = f.enum;
      break;
    case "message":
      kind = FieldKind.message;
      messageDesc = f.message;
      if (f.delimitedEncoding) unsupported = "group encoding";
      break;
    case "list":
      kind = FieldKind.list;
      scalar = f.scalar;
      en = f.enum;
      messageDesc = f.message;
      if (f.listKind === "message" && f.delimitedEncoding) unsupported = "group encoding";
      break;
    case "map":
      kind = FieldKind.map;
      mapKey = f.mapKey;
      scalar = f.scalar;
      en = f.enum;
      messageDesc = f.message;
      break;
  }
  if (en && !en.open) unsupported = "closed enum";
  const valueScalar = en ? ScalarType.INT32 : scalar;
  const wire = messageDesc ? WireType.len : wireTypeOf(valueScalar!);
  const ej = en ? enumJson(en) : undefined;
  const enumZero = en ? en.values[0]!.number : 0;
  const zeroText = ej ? enumText(ej, enumZero) : scalar !== undefined ? scalarZeroText(scalar) : "";
  const oneof = f.oneof ? (oneofIndex.get(f.oneof) ?? -1) : -1;
  const implicit = (kind === FieldKind.scalar || kind === FieldKind.enum) && oneof < 0 && f.presence === IMPLICIT;
  const defaultText = kind === FieldKind.list ? "[]" : kind === FieldKind.map ? "{}" : implicit ? zeroText : undefined;
  return {
    number: f.number,
    slot,
    key,
    kind,
    scalar,
    isFloat: scalar === ScalarType.DOUBLE || scalar === ScalarType.FLOAT,
    wire,
    packable: kind === FieldKind.list && !messageDesc && scalar !== ScalarType.STRING && scalar !== ScalarType.BYTES,
    implicit,
    oneof,
    enumJson: ej,
    enumZero,
    strict: f.fieldKind === "scalar" || f.fieldKind === "list" || f.fieldKind === "map" ? Boolean((f as { utf8Validation?: boolean }).utf8Validation) : false,
    zeroText,
    defaultText,
    messageDesc,
    mapKey,
    mapKeyWire: mapKey !== undefined ? wireTypeOf(mapKey) : 0,
    unsupported,
  };
}

/** Plans per descriptor for one naming choice; recursive types are fine (plans are built lazily). */
export function createPlanner(useProtoNames: boolean): (desc: DescMessage) => MessagePlan {
  const plans = new WeakMap<DescMessage, MessagePlan>();
  return (desc) => {
    let plan = plans.get(desc);
    if (plan) return plan;
    const oneofIndex = new Map<unknown, number>();
    desc.oneofs.forEach((o, i) => oneofIndex.set(o, i));
    const sorted = desc.fields.concat().sort((a, b) => a.number - b.number);
    const fields = sorted.map((f, i) => planField(f, i, oneofIndex, useProtoNames));
    const max = sorted.length ? sorted[sorted.length - 1]!.number : 0;
    let field: (no: number) => FieldPlan | undefined;
    if (max <= 4096) {
      const byNo: (FieldPlan | undefined)[] = new Array(max + 1).fill(undefined);
      for (const f of fields) byNo[f.number] = f;
      field = (no) => (no <= max ? byNo[no] : undefined);
    } else {
      const byNo = new Map(fields.map((f) => [f.number, f]));
      field = (no) => byNo.get(no);
    }
    const required = sorted.some((f) => (f as { presence?: number }).presence === LEGACY_REQUIRED);
    plan = { desc, fields, oneofCount: desc.oneofs.length, hasMap: fields.some((f) => f.kind === FieldKind.map), wkt: wktKind(desc), unsupported: required ? "required fields" : undefined, field };
    plans.set(desc, plan);
    return plan;
  };
}
