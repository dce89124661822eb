import { textDecoder, textEncoder } from "../../core/index.ts";
import { ByteReader, ByteWriter } from "./byte-reader.ts";
import { THRIFT_BINARY_MAGIC, type MessageType } from "./constants.ts";
import { protocolError } from "./errors.ts";
import type { ExceptionInfo, RpcMessage } from "./message.ts";

// Strict Thrift binary messages (§2.2): `u32 0x8001_00tt | str32 name | i32 seq | struct`.
// We only speak KitexProtobuf upstream, but the mux control frame is a Thrift
// Reply (§4.2) and a protobuf-only Kitex server answers Thrift with a Thrift
// TApplicationException (§12, file 33), so both need decoding.

const T = { stop: 0, bool: 2, byte: 3, double: 4, i16: 6, i32: 8, i64: 10, string: 11, struct: 12, map: 13, set: 14, list: 15, uuid: 16 } as const;
const MAX_DEPTH = 32;

export function decodeThriftMessage(payload: Uint8Array, framed: boolean): RpcMessage {
  const r = new ByteReader(payload);
  if (framed) {
    const len = r.u32("Thrift frame length");
    if (len !== payload.byteLength - 4) throw protocolError(`Thrift frame length ${len} does not match the ${payload.byteLength - 4} bytes after it`);
  }
  const version = r.u32("Thrift version");
  if (version >>> 16 !== THRIFT_BINARY_MAGIC) throw protocolError("bad Thrift version");
  const method = r.str32("Thrift method name");
  const seqId = r.i32("Thrift seq id");
  return { codec: "thrift-binary", framed, type: version & 0xff, method, seqId, body: r.bytes(r.remaining) };
}

export function encodeThriftMessage(m: { type: MessageType | number; method: string; seqId: number; body: Uint8Array }, framed = false): Uint8Array {
  const method = textEncoder.encode(m.method);
  const size = (framed ? 4 : 0) + 4 + 4 + method.byteLength + 4 + m.body.byteLength;
  const w = new ByteWriter(size);
  if (framed) w.u32(size - 4);
  w.u16(THRIFT_BINARY_MAGIC);
  w.u16(m.type & 0xff);
  w.u32(method.byteLength);
  w.raw(method);
  w.i32(m.seqId);
  w.raw(m.body);
  return w.bytes;
}

function skipValue(r: ByteReader, type: number, depth: number): void {
  if (depth > MAX_DEPTH) throw protocolError("Thrift value nested too deeply");
  switch (type) {
    case T.bool: case T.byte: r.skip(1); return;
    case T.i16: r.skip(2); return;
    case T.i32: r.skip(4); return;
    case T.double: case T.i64: r.skip(8); return;
    case T.uuid: r.skip(16); return;
    case T.string: {
      const n = r.i32("Thrift string length");
      if (n < 0) throw protocolError("negative Thrift string length");
      r.skip(n, "Thrift string");
      return;
    }
    case T.struct:
      for (let ft = r.u8(); ft !== T.stop; ft = r.u8()) {
        r.skip(2); // field id
        skipValue(r, ft, depth + 1);
      }
      return;
    case T.map: {
      const kt = r.u8();
      const vt = r.u8();
      const n = count(r);
      for (let i = 0; i < n; i++) {
        skipValue(r, kt, depth + 1);
        skipValue(r, vt, depth + 1);
      }
      return;
    }
    case T.set: case T.list: {
      const et = r.u8();
      const n = count(r);
      for (let i = 0; i < n; i++) skipValue(r, et, depth + 1);
      return;
    }
    default:
      throw protocolError(`unknown Thrift type ${type}`);
  }
}

function count(r: ByteReader): number {
  const n = r.i32("Thrift container size");
  // Every element takes at least one byte, so this bounds the loop by the input size.
  if (n < 0 || n > r.remaining) throw protocolError("bad Thrift container size");
  return n;
}

/** `TApplicationException { 1: string message, 2: i32 type }` (§2.2). */
export function decodeTApplicationException(body: Uint8Array): ExceptionInfo {
  const r = new ByteReader(body);
  let message = "";
  let typeId = 0;
  for (let ft = r.u8(); ft !== T.stop; ft = r.u8("Thrift field type")) {
    const id = r.u16("Thrift field id");
    if (id === 1 && ft === T.string) {
      const n = r.i32("Thrift string length");
      if (n < 0) throw protocolError("negative Thrift string length");
      message = textDecoder.decode(r.bytes(n, "Thrift string"));
    } else if (id === 2 && ft === T.i32) {
      typeId = r.i32();
    } else {
      skipValue(r, ft, 1);
    }
  }
  return { typeId, message };
}

export function encodeTApplicationException(e: ExceptionInfo): Uint8Array {
  const msg = textEncoder.encode(e.message);
  const w = new ByteWriter(3 + 4 + msg.byteLength + 3 + 4 + 1);
  w.u8(T.string);
  w.u16(1);
  w.u32(msg.byteLength);
  w.raw(msg);
  w.u8(T.i32);
  w.u16(2);
  w.i32(e.typeId);
  w.u8(T.stop);
  return w.bytes;
}
