import { textDecoder, textEncoder } from "../../core/index.ts";
import { ByteReader } from "./byte-reader.ts";
import { protocolError } from "./errors.ts";
import type { ExceptionInfo } from "./message.ts";

// `protobuf.ErrorProto { int32 TypeID = 1; string Message = 2; }` (proto3),
// the body of a KitexProtobuf exception (§2.1, kitex:pkg/remote/codec/protobuf/error.proto).
// Hand-written so this layer needs no protobuf runtime.

function varintBytes(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export function encodeErrorProto(e: ExceptionInfo): Uint8Array {
  const out: number[] = [];
  const typeId = e.typeId | 0;
  if (typeId !== 0) out.push(0x08, ...varintBytes(BigInt(typeId))); // negative int32: 10-byte varint
  const msg = textEncoder.encode(e.message);
  if (msg.byteLength > 0) out.push(0x12, ...varintBytes(BigInt(msg.byteLength)));
  const bytes = new Uint8Array(out.length + msg.byteLength);
  bytes.set(out);
  bytes.set(msg, out.length);
  return bytes;
}

/** Low 32 bits of a varint as an int32, and at most 10 bytes read. */
function readVarint32(r: ByteReader): number {
  let v = 0;
  for (let i = 0; i < 10; i++) {
    const b = r.u8("varint");
    if (i < 5) v |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return v | 0;
  }
  throw protocolError("varint longer than 10 bytes");
}

function readLength(r: ByteReader): number {
  const n = readVarint32(r);
  if (n < 0 || n > r.remaining) throw protocolError("truncated length-delimited field");
  return n;
}

export function decodeErrorProto(body: Uint8Array): ExceptionInfo {
  const r = new ByteReader(body);
  let typeId = 0;
  let message = "";
  while (r.remaining > 0) {
    const tag = readVarint32(r) >>> 0;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) typeId = readVarint32(r);
    else if (field === 2 && wire === 2) message = textDecoder.decode(r.bytes(readLength(r)));
    else if (wire === 0) readVarint32(r);
    else if (wire === 1) r.skip(8);
    else if (wire === 2) r.skip(readLength(r));
    else if (wire === 5) r.skip(4);
    else throw protocolError(`ErrorProto: unsupported wire type ${wire}`);
  }
  return { typeId, message };
}
