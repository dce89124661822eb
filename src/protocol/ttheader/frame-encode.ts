import { textEncoder } from "../../core/index.ts";
import { ByteWriter } from "./byte-reader.ts";
import {
  DEFAULT_LIMITS,
  InfoId,
  MAX_HEADER_BLOCK,
  MAX_HEADER_STRING,
  StrKey,
  TTHEADER_MAGIC,
  TTHEADER_META_SIZE,
  type TTHeaderLimits,
} from "./constants.ts";
import { tooLargeError } from "./errors.ts";
import type { TTHeaderFrameInit } from "./frame.ts";

function str16(s: string, what: string): Uint8Array {
  const b = textEncoder.encode(s);
  if (b.byteLength > MAX_HEADER_STRING) throw tooLargeError(`${what} is ${b.byteLength} bytes, str16 allows ${MAX_HEADER_STRING}`);
  return b;
}

/**
 * Encodes one frame following Kitex's writer (`gopkg:protocol/ttheader/encode.go`, §1.3):
 * protocol id, 0 transforms, ACL section, string KVs, int KVs (empty sections left out),
 * then zero padding to a 4-byte boundary; LENGTH = total - 4. Throws a GatewayError
 * (RESOURCE_EXHAUSTED, message_too_large) when the frame would break a limit.
 */
export function encodeFrame(init: TTHeaderFrameInit, limits: TTHeaderLimits = DEFAULT_LIMITS): Uint8Array {
  let acl = init.aclToken;
  const strs: [Uint8Array, Uint8Array][] = [];
  for (const [k, v] of init.strHeaders ?? []) {
    if (k === StrKey.gdprToken) {
      acl ??= v;
      continue;
    }
    strs.push([str16(k, `header key ${JSON.stringify(k.slice(0, 32))}`), str16(v, `header ${JSON.stringify(k.slice(0, 32))}`)]);
  }
  const ints: [number, Uint8Array][] = [];
  for (const [k, v] of init.intHeaders ?? []) {
    if (!Number.isInteger(k) || k < 0 || k > 0xffff) throw tooLargeError(`int header key ${k} is not a u16`);
    ints.push([k, str16(v, `int header ${k}`)]);
  }
  if (strs.length > 0xffff || ints.length > 0xffff) throw tooLargeError("more than 65535 headers in one section");
  const aclBytes = acl === undefined ? undefined : str16(acl, "ACL token");

  let info = 2; // PROTOCOL_ID + NUM_TRANSFORMS
  if (aclBytes) info += 1 + 2 + aclBytes.byteLength;
  if (strs.length > 0) {
    info += 3;
    for (const [k, v] of strs) info += 4 + k.byteLength + v.byteLength;
  }
  if (ints.length > 0) {
    info += 3;
    for (const [, v] of ints) info += 4 + v.byteLength;
  }
  const headerBlock = info + ((4 - (info % 4)) % 4);
  if (headerBlock > Math.min(limits.maxHeaderSize, MAX_HEADER_BLOCK)) {
    throw tooLargeError(`header block of ${headerBlock} bytes exceeds the limit of ${limits.maxHeaderSize}`);
  }
  const parts = init.payload instanceof Uint8Array ? [init.payload] : init.payload;
  let payloadLen = 0;
  for (const p of parts) payloadLen += p.byteLength;
  const total = TTHEADER_META_SIZE + headerBlock + payloadLen;
  if (total > limits.maxFrameSize) throw tooLargeError(`frame of ${total} bytes exceeds the limit of ${limits.maxFrameSize}`);

  const w = new ByteWriter(total);
  w.u32(total - 4);
  w.u16(TTHEADER_MAGIC);
  w.u16((init.flags ?? 0) & 0xffff);
  w.i32(init.seqId);
  w.u16(headerBlock / 4);
  w.u8(init.protocolId ?? 0);
  w.u8(0); // transforms are never written (§1.2)
  if (aclBytes) {
    w.u8(InfoId.aclToken);
    w.u16(aclBytes.byteLength);
    w.raw(aclBytes);
  }
  if (strs.length > 0) {
    w.u8(InfoId.keyValue);
    w.u16(strs.length);
    for (const [k, v] of strs) {
      w.u16(k.byteLength);
      w.raw(k);
      w.u16(v.byteLength);
      w.raw(v);
    }
  }
  if (ints.length > 0) {
    w.u8(InfoId.intKeyValue);
    w.u16(ints.length);
    for (const [k, v] of ints) {
      w.u16(k);
      w.u16(v.byteLength);
      w.raw(v);
    }
  }
  w.pos = TTHEADER_META_SIZE + headerBlock; // padding is already zero
  for (const p of parts) w.raw(p);
  return w.bytes;
}
