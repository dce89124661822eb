// proto3 JSON <-> protobuf binary, by reflection (protobuf-es), with errors that name the field.
// Spec: https://protobuf.dev/programming-guides/json/
import { fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, Reason, type Result } from "../core/index.ts";

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
}

/** protobuf-es error text -> a client-facing GatewayError naming the field. */
export function jsonInputError(e: unknown, desc: DescMessage): GatewayError {
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
  return new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badField, message: `invalid ${desc.typeName}: ${text}`, cause: e });
}

export function createJsonCodec(registry: Registry, options: JsonOptions = defaultJsonOptions): JsonCodec {
  const readOpts = { ignoreUnknownFields: options.ignoreUnknownFields, registry };
  const writeOpts = { alwaysEmitImplicit: options.emitDefaults, useProtoFieldName: options.useProtoNames, registry };
  return {
    encode(desc, json) {
      try {
        return { ok: true, value: toBinary(desc, fromJson(desc, json, readOpts)) };
      } catch (e) {
        return { ok: false, error: jsonInputError(e, desc) };
      }
    },
    decode(desc, bytes) {
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
    },
  };
}
