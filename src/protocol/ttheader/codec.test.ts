import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, bytesToHex, hexToBytes } from "../../core/index.ts";
import {
  ExceptionType,
  FrameDecoder,
  MessageType,
  decodeErrorProto,
  decodeException,
  decodeFrame,
  decodePayload,
  encodeErrorProto,
  encodeFrame,
  encodeMessageFrame,
  encodeTApplicationException,
  encodeThriftMessage,
  exceptionTypeForGrpcCode,
  grpcCodeForException,
  readBizStatus,
  writeBizStatus,
  type RpcMessage,
  type TTHeaderFrame,
} from "./index.ts";

const V1 = hexToBytes("0000002610000000000000010001000000000000001490010001000000044563686f000000010a026869");

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(r: () => number, max: number): string {
  const alphabet = "abcXYZ_-.09 é漢🙂";
  const chars = [...alphabet];
  let s = "";
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += chars[Math.floor(r() * chars.length)];
  return s;
}

function randomFrame(r: () => number): { header: Parameters<typeof encodeMessageFrame>[0]; msg: RpcMessage } {
  const strHeaders = new Map<string, string>();
  for (let i = Math.floor(r() * 4); i > 0; i--) strHeaders.set(`k${randomString(r, 8)}`, randomString(r, 20));
  const intHeaders = new Map<number, string>();
  for (let i = Math.floor(r() * 4); i > 0; i--) intHeaders.set(Math.floor(r() * 65536), randomString(r, 12));
  const seqId = (Math.floor(r() * 2 ** 32) | 0) || 1;
  const body = new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256));
  const aclToken = r() < 0.3 ? randomString(r, 10) : undefined;
  return {
    header: { flags: r() < 0.5 ? 0 : 1, strHeaders, intHeaders, aclToken },
    msg: { codec: "kitex-protobuf", framed: true, type: 1 + Math.floor(r() * 4), method: `M${randomString(r, 10)}`, seqId, body },
  };
}

function expectProtocolError(e: GatewayError | undefined, fragment?: string): void {
  expect(e).toBeDefined();
  expect(GatewayError.is(e)).toBe(true);
  expect(e!.code).toBe(GrpcCode.UNAVAILABLE);
  expect(e!.reason).toBe("upstream_protocol_error");
  if (fragment) expect(e!.message).toContain(fragment);
}

/** V1 with its header block replaced (HEADER_SIZE and LENGTH patched). */
function withHeader(block: number[]): Uint8Array {
  const payload = V1.subarray(18);
  const out = new Uint8Array(14 + block.length + payload.byteLength);
  out.set(V1.subarray(0, 12));
  const v = new DataView(out.buffer);
  v.setUint16(12, block.length / 4);
  out.set(block, 14);
  out.set(payload, 14 + block.length);
  v.setUint32(0, out.byteLength - 4);
  return out;
}

describe("round trips", () => {
  test("random frames encode and decode back to the same fields", () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const { header, msg } = randomFrame(r);
      const bytes = encodeMessageFrame(header, msg);
      const f = decodeFrame(bytes);
      if (!f.ok) throw f.error;
      expect(f.value.flags).toBe(header.flags!);
      expect(f.value.seqId).toBe(msg.seqId);
      expect(f.value.strHeaders).toEqual(header.strHeaders!);
      expect(f.value.intHeaders).toEqual(header.intHeaders!);
      expect(f.value.aclToken).toBe(header.aclToken);
      expect((14 + (new DataView(bytes.buffer).getUint16(12) * 4)) % 4).toBe(2);
      const m = decodePayload(f.value.payload);
      if (!m.ok) throw m.error;
      expect(m.value).toEqual(msg);
    }
  });

  test("thrift messages, framed and not, and exceptions of both codecs", () => {
    for (const framed of [false, true]) {
      const bytes = encodeThriftMessage({ type: 3, method: "echo", seqId: -9, body: encodeTApplicationException({ typeId: 20, message: "gone" }) }, framed);
      const m = decodePayload(bytes);
      if (!m.ok) throw m.error;
      expect(m.value).toMatchObject({ codec: "thrift-binary", framed, type: 3, method: "echo", seqId: -9 });
      const ex = decodeException(m.value);
      expect(ex.ok && ex.value).toEqual({ typeId: 20, message: "gone" });
    }
    for (const e of [{ typeId: 0, message: "" }, { typeId: -5, message: "négatif" }, { typeId: 21, message: "x".repeat(300) }]) {
      expect(decodeErrorProto(encodeErrorProto(e))).toEqual(e);
    }
    // Unknown protobuf fields are skipped.
    expect(decodeErrorProto(hexToBytes("1801" + "0801" + "2a0100" + "1202" + "6869"))).toEqual({ typeId: 1, message: "hi" });
  });

  test("biz status round trip and bad values", () => {
    const h = new Map<string, string>();
    writeBizStatus(h, { status: -7, message: "m", extra: { a: "1" } });
    const r = readBizStatus(h);
    expect(r.ok && r.value).toEqual({ status: -7, message: "m", extra: { a: "1" } });
    expect(readBizStatus(new Map([["biz-status", "0"]]))).toEqual({ ok: true, value: undefined });
    const bad = readBizStatus(new Map([["biz-status", "12x"]]));
    expect(bad.ok).toBe(false);
    expect(readBizStatus(new Map([["biz-status", "99999999999"]])).ok).toBe(false);
    // Unparseable biz-extra is dropped, not fatal; __proto__ never becomes a prototype.
    const lenient = readBizStatus(new Map([["biz-status", "3"], ["biz-extra", "{nope"]]));
    expect(lenient.ok && lenient.value).toEqual({ status: 3, message: "" });
    const proto = readBizStatus(new Map([["biz-status", "3"], ["biz-extra", '{"__proto__":{"x":"1"},"n":2}']]));
    expect(proto.ok && proto.value && proto.value.extra).toEqual({ n: "2" });
  });
});

describe("decoder edge cases (§9.2, §12)", () => {
  test("HEADER_SIZE 0 is rejected", () => {
    const b = V1.slice();
    b[13] = 0;
    const r = decodeFrame(b);
    expect(r.ok).toBe(false);
    if (!r.ok) expectProtocolError(r.error, "invalid header length[0]");
  });

  test("protocol id 0x02 is rejected, 0x03 and 0x04 accepted", () => {
    for (const [id, ok] of [[2, false], [3, true], [4, true], [1, false]] as const) {
      const b = V1.slice();
      b[14] = id;
      expect(decodeFrame(b).ok).toBe(ok);
    }
  });

  test("unknown INFO_ID is rejected", () => {
    const r = decodeFrame(withHeader([0, 0, 0x02, 0]));
    expect(r.ok).toBe(false);
    if (!r.ok) expectProtocolError(r.error, "invalid infoIDType[0x2]");
  });

  test("padding between sections and transform ids are accepted", () => {
    // proto 0, 2 transforms (1, 3), pad, int KV {9:"E"}, pad, pad, ACL "t", pad
    const block = [0, 2, 1, 3, 0, 0x10, 0, 1, 0, 9, 0, 1, 0x45, 0, 0, 0x11, 0, 1, 0x74, 0];
    const r = decodeFrame(withHeader(block));
    if (!r.ok) throw r.error;
    expect(r.value.intHeaders).toEqual(new Map([[9, "E"]]));
    expect(r.value.aclToken).toBe("t");
    const m = decodePayload(r.value.payload);
    expect(m.ok && m.value.method).toBe("Echo");
  });

  test("a section running past the header block is rejected", () => {
    const r = decodeFrame(withHeader([0, 0, 0x01, 0, 1, 0, 9, 0]));
    expect(r.ok).toBe(false);
    if (!r.ok) expectProtocolError(r.error, "truncated");
  });

  test("repeated keys keep the last value (§1.4)", () => {
    const block = [0, 0, 0x01, 0, 2, 0, 1, 0x61, 0, 1, 0x31, 0, 1, 0x61, 0, 1, 0x32, 0, 0, 0];
    const r = decodeFrame(withHeader(block));
    expect(r.ok && r.value.strHeaders.get("a")).toBe("2");
  });

  test("LENGTH with the MSB set, too short or not matching the bytes", () => {
    const msb = V1.slice();
    msb[0] = 0x80;
    const a = decodeFrame(msb);
    expect(a.ok).toBe(false);
    const short = hexToBytes("0000000810000000000000010001");
    expect(decodeFrame(short).ok).toBe(false);
    expect(decodeFrame(V1.subarray(0, 30)).ok).toBe(false);
    const longer = new Uint8Array(V1.byteLength + 3);
    longer.set(V1);
    expect(decodeFrame(longer).ok).toBe(false);
  });

  test("payload sniffing: KitexProtobuf needs its frame length; empty method rejected", () => {
    const unframed = V1.subarray(22); // 90 01 00 01 ...: no FRAME_LEN in front
    const r = decodePayload(unframed);
    expect(r.ok).toBe(false);
    if (!r.ok) expectProtocolError(r.error, "invalid payload (first4Bytes=0x90010001");
    const empty = hexToBytes("0000000c9001000100000000" + "00000001");
    expect(decodePayload(empty).ok).toBe(false);
    const wrongLen = V1.slice(18);
    wrongLen[3] = 0x15;
    expect(decodePayload(wrongLen).ok).toBe(false);
    expect(decodePayload(hexToBytes("0000")).ok).toBe(false);
    expect(decodePayload(new TextEncoder().encode("GET / HTTP/1.1\r\n")).ok).toBe(false);
  });
});

describe("incremental decoder", () => {
  const r = rng(7);
  const frames = Array.from({ length: 40 }, () => randomFrame(r)).map(({ header, msg }) => encodeMessageFrame(header, msg));
  const stream = new Uint8Array(frames.reduce((a, f) => a + f.byteLength, 0));
  frames.reduce((off, f) => (stream.set(f, off), off + f.byteLength), 0);
  const expected = frames.map((f) => {
    const d = decodeFrame(f);
    if (!d.ok) throw d.error;
    return d.value;
  });

  const feed = (sizes: () => number) => {
    const d = new FrameDecoder();
    const got: TTHeaderFrame[] = [];
    for (let off = 0; off < stream.byteLength; ) {
      const n = Math.max(1, sizes());
      const out = d.push(stream.subarray(off, off + n));
      expect(out.error).toBeUndefined();
      got.push(...out.frames);
      off += n;
    }
    expect(d.buffered).toBe(0);
    return got;
  };

  test("byte by byte", () => {
    expect(feed(() => 1)).toEqual(expected);
  });

  test("random chunk sizes", () => {
    expect(feed(() => Math.floor(r() * 300))).toEqual(expected);
  });

  test("one big chunk", () => {
    expect(feed(() => stream.byteLength)).toEqual(expected);
  });

  test("payloads are copies, safe after the input buffer is reused", () => {
    const d = new FrameDecoder();
    const buf = V1.slice();
    const out = d.push(buf);
    buf.fill(0);
    const m = decodePayload(out.frames[0]!.payload);
    expect(m.ok && m.value.method).toBe("Echo");
  });

  test("frames before a broken one are delivered, then the decoder stays failed", () => {
    const d = new FrameDecoder();
    const garbage = new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n");
    const both = new Uint8Array(V1.byteLength + garbage.byteLength);
    both.set(V1);
    both.set(garbage, V1.byteLength);
    const out = d.push(both);
    expect(out.frames).toHaveLength(1);
    expectProtocolError(out.error, "not a TTHeader frame");
    const again = d.push(V1);
    expect(again.frames).toHaveLength(0);
    expect(again.error).toBe(out.error!);
  });

  test("an oversized frame is rejected from its first 4 bytes, nothing buffered", () => {
    const d = new FrameDecoder({ maxFrameSize: 1024 });
    const out = d.push(hexToBytes("00100000"));
    expectProtocolError(out.error, "exceeds the limit of 1024");
    expect(d.buffered).toBe(0);
  });

  test("an oversized header is rejected from its first 14 bytes", () => {
    const big = encodeFrame({ seqId: 1, strHeaders: new Map([["k", "v".repeat(5000)]]), payload: V1.subarray(18) });
    const d = new FrameDecoder({ maxHeaderSize: 1024 });
    const out = d.push(big.subarray(0, 14));
    expectProtocolError(out.error, "header of 5012 bytes exceeds the limit of 1024");
    // The default header limit accepts it.
    expect(new FrameDecoder().push(big).frames).toHaveLength(1);
  });

  test("a 70 KB header is accepted when the limit allows it (gopkg >= v0.1.8, §12.5)", () => {
    const limits = { maxHeaderSize: 262140, maxFrameSize: 1 << 20 };
    const big = encodeFrame({ seqId: 1, strHeaders: new Map([["a", "x".repeat(35000)], ["b", "y".repeat(35000)]]), payload: V1.subarray(18) }, limits);
    const out = new FrameDecoder(limits).push(big);
    expect(out.error).toBeUndefined();
    expect(out.frames[0]!.strHeaders.get("b")!.length).toBe(35000);
  });
});

describe("encoder limits", () => {
  test("headers over the limit or a str16 are refused with message_too_large", () => {
    const tooBig = () => encodeFrame({ seqId: 1, strHeaders: new Map([["k", "v".repeat(70000)]]), payload: new Uint8Array(0) });
    expect(tooBig).toThrow(GatewayError);
    try {
      tooBig();
    } catch (e) {
      expect((e as GatewayError).reason).toBe("message_too_large");
      expect((e as GatewayError).code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    }
    expect(() => encodeFrame({ seqId: 1, strHeaders: new Map([["k", "v".repeat(60000)]]), payload: new Uint8Array(0) }, { maxHeaderSize: 1000, maxFrameSize: 1 << 20 })).toThrow("exceeds the limit of 1000");
    expect(() => encodeFrame({ seqId: 1, payload: new Uint8Array(2000) }, { maxHeaderSize: 1000, maxFrameSize: 1000 })).toThrow("frame of 2018 bytes");
    expect(() => encodeMessageFrame({}, { codec: "kitex-protobuf", framed: true, type: 1, method: "", seqId: 1, body: new Uint8Array(0) })).toThrow("empty method");
  });

  test("an empty reply has the header block 00 00 00 00 (§1.3)", () => {
    const bytes = encodeMessageFrame({}, { codec: "kitex-protobuf", framed: true, type: MessageType.reply, method: "Echo", seqId: 2, body: new Uint8Array(0) });
    expect(bytesToHex(bytes)).toBe("000000221000000000000002000100000000000000109001000200000004" + "4563686f00000002");
  });
});

describe("exception table", () => {
  test("routing errors are UNIMPLEMENTED, handler errors INTERNAL, unknown ids UNKNOWN", () => {
    expect(grpcCodeForException(ExceptionType.unknownMethod)).toBe(GrpcCode.UNIMPLEMENTED);
    expect(grpcCodeForException(ExceptionType.unknownService)).toBe(GrpcCode.UNIMPLEMENTED);
    expect(grpcCodeForException(ExceptionType.noServiceName)).toBe(GrpcCode.UNIMPLEMENTED);
    expect(grpcCodeForException(ExceptionType.internalError)).toBe(GrpcCode.INTERNAL);
    expect(grpcCodeForException(ExceptionType.protocolError)).toBe(GrpcCode.INTERNAL);
    expect(grpcCodeForException(0)).toBe(GrpcCode.UNKNOWN);
    expect(grpcCodeForException(99)).toBe(GrpcCode.UNKNOWN);
    // The server side maps back consistently for the codes the wire can carry.
    for (const code of [GrpcCode.UNIMPLEMENTED, GrpcCode.INTERNAL, GrpcCode.UNKNOWN]) {
      expect(grpcCodeForException(exceptionTypeForGrpcCode(code))).toBe(code);
    }
    expect(exceptionTypeForGrpcCode(GrpcCode.NOT_FOUND)).toBe(ExceptionType.internalError);
  });
});
