import { GatewayError, err, ok, type Result } from "../../core/index.ts";
import { KITEX_PROTOBUF_MAGIC, MessageType, THRIFT_BINARY_MAGIC } from "./constants.ts";
import { decodeErrorProto, encodeErrorProto } from "./error-proto.ts";
import { protocolError } from "./errors.ts";
import { decodeKitexProtobuf, encodeKitexProtobuf } from "./kitex-protobuf.ts";
import type { ExceptionInfo, RpcMessage } from "./message.ts";
import { decodeTApplicationException, decodeThriftMessage, encodeTApplicationException, encodeThriftMessage } from "./thrift-binary.ts";

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function guard<T>(fn: () => T): Result<T, GatewayError> {
  try {
    return ok(fn());
  } catch (e) {
    if (GatewayError.is(e)) return err(e);
    throw e;
  }
}

/**
 * Sniffs and decodes the payload after a TTHeader the way Kitex's DecodeMeta /
 * checkPayload does (§0 rule 3): KitexProtobuf when u32@4 is 0x9001xxxx (always
 * framed), unframed Thrift when u32@0 is 0x8001xxxx, framed Thrift when u32@4 is.
 */
export function decodePayload(payload: Uint8Array): Result<RpcMessage, GatewayError> {
  if (payload.byteLength < 8) return err(protocolError(`payload of ${payload.byteLength} bytes is too short`));
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const first = view.getUint32(0);
  const second = view.getUint32(4);
  if (second >>> 16 === KITEX_PROTOBUF_MAGIC) return guard(() => decodeKitexProtobuf(payload));
  if (first >>> 16 === THRIFT_BINARY_MAGIC) return guard(() => decodeThriftMessage(payload, false));
  if (second >>> 16 === THRIFT_BINARY_MAGIC) return guard(() => decodeThriftMessage(payload, true));
  return err(protocolError(`invalid payload (first4Bytes=${hex32(first)}, second4Bytes=${hex32(second)})`));
}

/** Encodes a message in its codec; KitexProtobuf bodies are returned as separate chunks (no copy). */
export function encodePayload(m: RpcMessage): Uint8Array[] {
  if (m.codec === "kitex-protobuf") return encodeKitexProtobuf(m);
  return [encodeThriftMessage(m, m.framed)];
}

/** Reads `{typeId, message}` out of an exception message (ErrorProto or TApplicationException). */
export function decodeException(m: RpcMessage): Result<ExceptionInfo, GatewayError> {
  if (m.type !== MessageType.exception) return err(protocolError(`message type ${m.type} is not an exception`));
  return guard(() => (m.codec === "kitex-protobuf" ? decodeErrorProto(m.body) : decodeTApplicationException(m.body)));
}

/** The body of an exception message for the given codec. */
export function encodeExceptionBody(codec: RpcMessage["codec"], e: ExceptionInfo): Uint8Array {
  return codec === "kitex-protobuf" ? encodeErrorProto(e) : encodeTApplicationException(e);
}
