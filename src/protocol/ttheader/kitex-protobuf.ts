import { textDecoder, textEncoder } from "../../core/index.ts";
import { ByteReader, ByteWriter } from "./byte-reader.ts";
import { KITEX_PROTOBUF_MAGIC, type MessageType } from "./constants.ts";
import { protocolError, tooLargeError } from "./errors.ts";
import type { RpcMessage } from "./message.ts";

/**
 * KitexProtobuf message (§2.1):
 *   u32 FRAME_LEN | u32 0x9001_00tt | str32 METHOD | i32 SEQ_ID | protobuf body
 * FRAME_LEN counts everything after itself and is mandatory ("framed").
 */
export function encodeKitexProtobuf(m: {
  type: MessageType | number;
  method: string;
  seqId: number;
  body: Uint8Array;
}): Uint8Array[] {
  const method = textEncoder.encode(m.method);
  if (method.byteLength === 0) throw tooLargeError("empty method name (Kitex rejects it)");
  const headLen = 4 + 4 + 4 + method.byteLength + 4;
  const frameLen = headLen - 4 + m.body.byteLength;
  if (frameLen > 0x7fffffff) throw tooLargeError(`payload of ${frameLen} bytes does not fit a frame`);
  const w = new ByteWriter(headLen);
  w.u32(frameLen);
  w.u16(KITEX_PROTOBUF_MAGIC);
  w.u16(m.type);
  w.u32(method.byteLength);
  w.raw(method);
  w.i32(m.seqId);
  return m.body.byteLength > 0 ? [w.bytes, m.body] : [w.bytes];
}

/** Decodes a KitexProtobuf payload; throws a protocol GatewayError on bad bytes. */
export function decodeKitexProtobuf(payload: Uint8Array): RpcMessage {
  const r = new ByteReader(payload);
  const frameLen = r.u32("KitexProtobuf frame length");
  if (frameLen !== payload.byteLength - 4) {
    throw protocolError(`KitexProtobuf frame length ${frameLen} does not match the ${payload.byteLength - 4} bytes after it`);
  }
  const magic = r.u32("KitexProtobuf magic");
  if (magic >>> 16 !== KITEX_PROTOBUF_MAGIC) throw protocolError("bad version in protobuf Unmarshal");
  const methodLen = r.u32("method length");
  if (methodLen === 0) throw protocolError("empty method name");
  const method = textDecoder.decode(r.bytes(methodLen, "method name"));
  const seqId = r.i32("payload seq id");
  return { codec: "kitex-protobuf", framed: true, type: magic & 0xffff, method, seqId, body: r.bytes(r.remaining) };
}
