// proto3 JSON <-> protobuf binary, by reflection (protobuf-es), with errors that name the field.
// Spec: https://protobuf.dev/programming-guides/json/
import { fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, Reason, textEncoder, type Result } from "../core/index.ts";
import { createBinaryJsonWriter } from "./json-writer.ts";

export interface JsonOptions {
  /** Accept and drop unknown fields instead of answering 400. */
  readonly ignoreUnknownFields: boolean;
  /** Emit fields with default values ([] for repeated, 0, "", false). */
  readonly emitDefaults: boolean;
  /** Use .proto field names (snake_case) instead of lowerCamelCase json names on output. */
  readonly useProtoNames: boolean;
}

export const defaultJsonOptions: JsonOptions = { ignoreUnknownFields: false, emitDefaults: false, useProtoNames: false };

export interface JsonCodec {
  /** JSON value -> binary request. */
  encode(desc: DescMessage, json: JsonValue): Result<Uint8Array, GatewayError>;
  /** Binary reply -> JSON value. Throws GatewayError (INTERNAL) if the bytes don't parse. */
  decode(desc: DescMessage, bytes: Uint8Array): JsonValue;
  /**
   * Binary reply -> the UTF-8 bytes of JSON.stringify(decode(desc, bytes)), between optional ASCII
   * `prefix` and `suffix` (stream framing). Written straight from the wire format when possible
   * (src/transcode/json-writer.ts), else through decode(). Throws like decode().
   */
  decodeToBytes(desc: DescMessage, bytes: Uint8Array, prefix?: string, suffix?: string): Uint8Array;
  /** Replies written directly vs. through protobuf-es. */
  readonly writerStats: { readonly fast: number; readonly fallback: number };
}

/**
 * Finds the innermost field whose value fails to decode, by decoding one key at a time
 * (only on the error path). Returns e.g. "testdata.v1.AllTypes.inner.values".
 */
function locateBadField(desc: DescMessage, json: JsonValue, registry: Registry, prefix: string): string | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) continue;
    try {
      fromJson(desc, { [key]: value } as JsonValue, { registry, ignoreUnknownFields: false });
    } catch {
      const path = `${prefix}.${field.name}`;
      if (field.fieldKind === "message" && !field.message.typeName.startsWith("google.protobuf.")) {
        return locateBadField(field.message, value, registry, path) ?? path;
      }
      return path;
    }
  }
  return undefined;
}

/** protobuf-es error text -> a client-facing GatewayError naming the field. */
export function jsonInputError(e: unknown, desc: DescMessage, json?: JsonValue, registry?: Registry): GatewayError {
  const text = e instanceof Error ? e.message : String(e);
  const unknown = /key "([^"]+)" is unknown/.exec(text);
  if (unknown) {
    return new GatewayError({
      code: GrpcCode.INVALID_ARGUMENT,
      reason: Reason.unknownField,
      message: `unknown field "${unknown[1]}" in ${desc.typeName}`,
      cause: e,
    });
  }
  const field = /cannot decode field ([\w.]+) from JSON: (.*)$/s.exec(text);
  if (field) {
    return new GatewayError({
      code: GrpcCode.INVALID_ARGUMENT,
      reason: Reason.badField,
      message: `invalid value for field ${field[1]}: ${field[2]}`,
      cause: e,
    });
  }
  const where = json !== undefined && registry ? locateBadField(desc, json, registry, desc.typeName) : undefined;
  const detail = text.replace(/^cannot decode (message|enum) [\w.]+ from JSON: /, "");
  return new GatewayError({
    code: GrpcCode.INVALID_ARGUMENT,
    reason: Reason.badField,
    message: where ? `invalid value for field ${where}: ${detail}` : `invalid ${desc.typeName}: ${text}`,
    cause: e,
  });
}

export function createJsonCodec(registry: Registry, options: JsonOptions = defaultJsonOptions): JsonCodec {
  const readOpts = { ignoreUnknownFields: options.ignoreUnknownFields, registry };
  const writeOpts = { alwaysEmitImplicit: options.emitDefaults, useProtoFieldName: options.useProtoNames, registry };
  const writer = createBinaryJsonWriter(registry, options);
  const decode = (desc: DescMessage, bytes: Uint8Array): JsonValue => {
    let msg;
    try {
      msg = fromBinary(desc, bytes);
    } catch (e) {
      throw new GatewayError({
        code: GrpcCode.INTERNAL,
        reason: Reason.upstreamProtocol,
        message: `upstream reply is not a valid ${desc.typeName}: ${e instanceof Error ? e.message : e}`,
        cause: e,
      });
    }
    return toJson(desc, msg, writeOpts);
  };
  return {
    encode(desc, json) {
      try {
        return { ok: true, value: toBinary(desc, fromJson(desc, json, readOpts)) };
      } catch (e) {
        return { ok: false, error: jsonInputError(e, desc, json, registry) };
      }
    },
    decode,
    decodeToBytes(desc, bytes, prefix = "", suffix = "") {
      return writer.tryWrite(desc, bytes, prefix, suffix) ?? textEncoder.encode(prefix + JSON.stringify(decode(desc, bytes)) + suffix);
    },
    writerStats: writer.stats,
  };
}
