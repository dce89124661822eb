import { GatewayError, err, ok, type Result } from "../../core/index.ts";
import { ByteReader } from "./byte-reader.ts";
import {
  ACCEPTED_PROTOCOL_IDS,
  DEFAULT_LIMITS,
  InfoId,
  TTHEADER_MAGIC,
  TTHEADER_META_SIZE,
  type TTHeaderLimits,
} from "./constants.ts";
import { protocolError } from "./errors.ts";
import type { TTHeaderFrame } from "./frame.ts";

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}

/**
 * Validates the fixed part of a frame as soon as its bytes arrive, so a bad or
 * oversized frame is rejected before it is buffered: LENGTH after 4 bytes, the
 * magic after 6, HEADER_SIZE after 14 (§1.1, §1.4). Returns the whole frame's
 * size once known, `undefined` while more bytes are needed.
 */
export function checkFramePrefix(bytes: Uint8Array, limits: TTHeaderLimits = DEFAULT_LIMITS): Result<number | undefined, GatewayError> {
  const n = bytes.byteLength;
  if (n < 4) return ok(undefined);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const length = view.getUint32(0);
  if (n >= 6 && view.getUint16(4) !== TTHEADER_MAGIC) {
    const second = n >= 8 ? hex32(view.getUint32(4)) : `0x${view.getUint16(4).toString(16).padStart(4, "0")}....`;
    return err(protocolError(`not a TTHeader frame (first4Bytes=${hex32(length)}, second4Bytes=${second})`));
  }
  if (length & 0x80000000) return err(protocolError(`invalid frame length ${hex32(length)} (MSB set)`));
  const total = length + 4;
  if (total > limits.maxFrameSize) {
    return err(protocolError(`frame of ${total} bytes exceeds the limit of ${limits.maxFrameSize} bytes`));
  }
  if (total < TTHEADER_META_SIZE + 4) return err(protocolError(`frame length ${length} is too short for a TTHeader`));
  if (n < TTHEADER_META_SIZE) return ok(undefined);
  const headerSize = view.getUint16(12) * 4;
  if (headerSize < 2) return err(protocolError(`invalid header length[${headerSize / 4}]`));
  if (headerSize > limits.maxHeaderSize) {
    return err(protocolError(`header of ${headerSize} bytes exceeds the limit of ${limits.maxHeaderSize} bytes`));
  }
  if (TTHEADER_META_SIZE + headerSize > total) {
    return err(protocolError(`header of ${headerSize} bytes does not fit in a ${total}-byte frame`));
  }
  return ok(total);
}

/** Decodes exactly one complete frame (`bytes` holds it and nothing else). */
export function decodeFrame(bytes: Uint8Array, limits: TTHeaderLimits = DEFAULT_LIMITS): Result<TTHeaderFrame, GatewayError> {
  const prefix = checkFramePrefix(bytes, limits);
  if (!prefix.ok) return prefix;
  if (prefix.value === undefined) return err(protocolError(`truncated frame: ${bytes.byteLength} bytes`));
  if (prefix.value !== bytes.byteLength) {
    return err(protocolError(`frame length says ${prefix.value} bytes, got ${bytes.byteLength}`));
  }
  try {
    return ok(parseFrame(bytes));
  } catch (e) {
    if (GatewayError.is(e)) return err(e);
    throw e;
  }
}

function parseFrame(bytes: Uint8Array): TTHeaderFrame {
  const r = new ByteReader(bytes);
  r.skip(6); // LENGTH and MAGIC, checked by checkFramePrefix
  const flags = r.u16();
  const seqId = r.i32();
  const headerEnd = TTHEADER_META_SIZE + r.u16() * 4;
  const h = new ByteReader(bytes, TTHEADER_META_SIZE, headerEnd);
  const protocolId = h.u8("protocol id");
  if (!ACCEPTED_PROTOCOL_IDS.has(protocolId)) throw protocolError(`unsupported ProtocolID[${protocolId}]`);
  // Transform ids are read and ignored, as Kitex does (§1.2).
  h.skip(h.u8("transform count"), "transform ids");
  const strHeaders = new Map<string, string>();
  const intHeaders = new Map<number, string>();
  let aclToken: string | undefined;
  while (h.remaining > 0) {
    const id = h.u8();
    switch (id) {
      case InfoId.padding:
        break;
      case InfoId.keyValue: {
        const count = h.u16("key/value count");
        for (let i = 0; i < count; i++) {
          const k = h.str16("header key");
          strHeaders.set(k, h.str16("header value"));
        }
        break;
      }
      case InfoId.intKeyValue: {
        const count = h.u16("int key/value count");
        for (let i = 0; i < count; i++) {
          const k = h.u16("int header key");
          intHeaders.set(k, h.str16("int header value"));
        }
        break;
      }
      case InfoId.aclToken:
        aclToken = h.str16("ACL token");
        break;
      default:
        throw protocolError(`invalid infoIDType[0x${id.toString(16)}]`);
    }
  }
  return { flags, seqId, protocolId, strHeaders, intHeaders, aclToken, payload: bytes.subarray(headerEnd) };
}
