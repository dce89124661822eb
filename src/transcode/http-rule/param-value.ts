// String (path segment or query value) -> proto3 JSON value for a field's type.
// Output follows https://protobuf.dev/programming-guides/json/: 32-bit ints, floats and
// doubles as numbers (NaN/Infinity as strings), 64-bit ints as decimal strings, bools,
// enums by name or number, bytes as base64 text. Values are checked here so errors can
// name the parameter; fromJson() then accepts the result.
// Well-known types with a string JSON form (Timestamp, Duration, FieldMask) and the
// wrappers are accepted as query parameters too, as grpc-gateway and Envoy do.

import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { err, ok, type Result } from "../../core/index.ts";

export type ParamTarget =
  | { readonly kind: "scalar"; readonly scalar: ScalarType }
  | { readonly kind: "enum"; readonly enum: DescEnum }
  | { readonly kind: "text"; readonly typeName: string };

const TEXT_WKT = new Set(["google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"]);
const WRAPPERS = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

function messageTarget(msg: DescMessage): ParamTarget | undefined {
  if (TEXT_WKT.has(msg.typeName)) return { kind: "text", typeName: msg.typeName };
  if (WRAPPERS.has(msg.typeName)) {
    const value = msg.fields[0];
    if (value?.fieldKind === "scalar") return { kind: "scalar", scalar: value.scalar };
  }
  return undefined;
}

/** The value type of a field as a parameter, or undefined for map and (non-WKT) message fields. */
export function paramTargetOf(f: DescField): ParamTarget | undefined {
  switch (f.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: f.scalar };
    case "enum":
      return { kind: "enum", enum: f.enum };
    case "message":
      return messageTarget(f.message);
    case "list":
      if (f.listKind === "scalar") return { kind: "scalar", scalar: f.scalar };
      if (f.listKind === "enum") return { kind: "enum", enum: f.enum };
      return messageTarget(f.message);
    case "map":
      return undefined;
  }
}

const INT = /^-?[0-9]+$/;
const UINT = /^[0-9]+$/;
const FLOAT = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const FLOAT_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function int32(raw: string, min: number, max: number, name: string): Result<JsonValue, string> {
  if (!(min < 0 ? INT : UINT).test(raw)) return err(`invalid ${name} "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) return err(`${name} out of range: "${raw}"`);
  return ok(n);
}

function int64(raw: string, min: bigint, max: bigint, name: string): Result<JsonValue, string> {
  if (!(min < 0n ? INT : UINT).test(raw)) return err(`invalid ${name} "${raw}"`);
  const n = BigInt(raw);
  if (n < min || n > max) return err(`${name} out of range: "${raw}"`);
  return ok(n.toString());
}

function float(raw: string, name: string, max: number): Result<JsonValue, string> {
  if (raw === "NaN" || raw === "Infinity" || raw === "-Infinity") return ok(raw);
  if (!FLOAT.test(raw)) return err(`invalid ${name} "${raw}"`);
  const n = Number(raw);
  if (!Number.isFinite(n) || Math.abs(n) > max) return err(`${name} out of range: "${raw}"`);
  return ok(n);
}

function scalar(type: ScalarType, raw: string): Result<JsonValue, string> {
  switch (type) {
    case ScalarType.STRING:
      return ok(raw);
    case ScalarType.BYTES:
      return BASE64.test(raw) ? ok(raw) : err(`invalid bytes "${raw}" (expected base64)`);
    case ScalarType.BOOL:
      return raw === "true" ? ok(true) : raw === "false" ? ok(false) : err(`invalid bool "${raw}" (expected true or false)`);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return int32(raw, -2147483648, 2147483647, "int32");
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return int32(raw, 0, 4294967295, "uint32");
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64(raw, INT64_MIN, INT64_MAX, "int64");
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return int64(raw, 0n, UINT64_MAX, "uint64");
    case ScalarType.FLOAT:
      return float(raw, "float", FLOAT_MAX);
    case ScalarType.DOUBLE:
      return float(raw, "double", Number.MAX_VALUE);
  }
}

function enumValue(e: DescEnum, raw: string): Result<JsonValue, string> {
  if (e.values.some((v) => v.name === raw)) return ok(raw);
  if (INT.test(raw)) {
    const n = Number(raw);
    // proto3 enums are open: any int32 is accepted; closed (proto2) enums only known numbers.
    if (n >= -2147483648 && n <= 2147483647 && (e.open || e.values.some((v) => v.number === n))) return ok(n);
  }
  const names = e.values.map((v) => v.name).join(", ");
  return err(`invalid value "${raw}" for enum ${e.typeName} (expected one of ${names}, or a number)`);
}

export function parseParam(target: ParamTarget, raw: string): Result<JsonValue, string> {
  switch (target.kind) {
    case "scalar":
      return scalar(target.scalar, raw);
    case "enum":
      return enumValue(target.enum, raw);
    case "text":
      return ok(raw);
  }
}
