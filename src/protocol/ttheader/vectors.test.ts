// Every hand-derived vector and every frame captured from real Kitex decodes to
// what its comment header says; V9 is rejected; the encoder reproduces the bytes.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayError, GrpcCode, hexToBytes, bytesToHex } from "../../core/index.ts";
import {
  FrameDecoder,
  HeaderFlag,
  MessageType,
  decodeException,
  decodeFrame,
  decodePayload,
  encodeControlFrame,
  encodeFrame,
  encodeMessageFrame,
  hasConnReset,
  isControlFrame,
  readBizStatus,
  type RpcMessage,
  type TTHeaderFrame,
} from "./index.ts";

// Paths are relative to the repo root, which has shared/ beside it (CI and worktrees).
const VECTORS = fileURLToPath(new URL("../../../../shared/protocol/vectors/", import.meta.url));

interface VectorFile {
  name: string;
  comments: string[];
  bytes: Uint8Array;
}

function load(dir: string): VectorFile[] {
  return readdirSync(join(VECTORS, dir))
    .filter((f) => f.endsWith(".hex"))
    .sort()
    .map((f) => {
      const lines = readFileSync(join(VECTORS, dir, f), "utf8").split("\n");
      const comments = lines.filter((l) => l.startsWith("#")).map((l) => l.replace(/^#\s?/, ""));
      const hex = lines.filter((l) => !l.startsWith("#")).join("");
      return { name: f.replace(/\.hex$/, ""), comments, bytes: hexToBytes(hex) };
    });
}

/** Parses the Python literals in the capture comments: dicts, lists, quoted strings, ints. */
function parsePy(src: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = src[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (src[i] === close) {
          i++;
          return c === "{" ? obj : arr;
        }
        const k = value();
        if (c === "{") {
          ws();
          if (src[i++] !== ":") throw new Error(`bad dict at ${i} in ${src}`);
          obj[String(k)] = value();
        } else arr.push(k);
        ws();
        if (src[i] === ",") i++;
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = "";
      while (src[i] !== c) {
        if (i >= src.length) throw new Error(`unterminated string in ${src}`);
        if (src[i] === "\\") {
          i++;
          const e = src[i]!;
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
        } else s += src[i];
        i++;
      }
      i++;
      return s;
    }
    const m = /^-?\d+/.exec(src.slice(i));
    if (!m) throw new Error(`bad literal at ${i} in ${src}`);
    i += m[0].length;
    return Number(m[0]);
  };
  return value();
}

interface Decoded {
  direction: string;
  mode: string;
  len: number;
  magic: number;
  flags: number;
  seq: number;
  headerWords: number;
  protoId: number;
  transforms: number;
  sections: string[];
  str: Record<string, string>;
  int: Record<string, string>;
  payload: { codec: "kitex-protobuf" | "thrift-binary"; type: number; method: string; seq: number; frameLen?: number; body: Uint8Array };
}

function field(comments: string[], prefix: string): string {
  const line = comments.find((l) => l.trimStart().startsWith(prefix));
  if (line === undefined) throw new Error(`no "${prefix}" line`);
  return line.trimStart().slice(prefix.length).trim();
}

function parseComments(comments: string[]): Decoded {
  const d = field(comments, "decoded:");
  const num = (key: string) => {
    const m = new RegExp(`\\b${key}=(0x[0-9a-f]+|-?\\d+)`).exec(d);
    if (!m) throw new Error(`no ${key} in ${d}`);
    return Number(m[1]);
  };
  const p = field(comments, "payload:");
  const pm = /^(kitexpb|thrift-unframed) msgType=(\d+) method='([^']*)' payload_seq=(-?\d+)(?: frame_len=(\d+))? body=(\S+)$/.exec(p);
  if (!pm) throw new Error(`bad payload line ${p}`);
  return {
    direction: field(comments, "direction:"),
    mode: field(comments, "mode:"),
    len: num("len"),
    magic: num("magic"),
    flags: num("flags"),
    seq: num("seq"),
    headerWords: num("header_size"),
    protoId: num("proto_id"),
    transforms: num("transforms"),
    sections: parsePy(d.slice(d.indexOf("sections=") + "sections=".length)) as string[],
    str: parsePy(field(comments, "str KV:")) as Record<string, string>,
    int: parsePy(field(comments, "int KV:")) as Record<string, string>,
    payload: {
      codec: pm[1] === "kitexpb" ? "kitex-protobuf" : "thrift-binary",
      type: Number(pm[2]),
      method: pm[3]!,
      seq: Number(pm[4]),
      ...(pm[5] === undefined ? {} : { frameLen: Number(pm[5]) }),
      body: pm[6] === "<empty>" ? new Uint8Array(0) : hexToBytes(pm[6]!),
    },
  };
}

const strObj = (m: ReadonlyMap<string, string>) => Object.fromEntries(m);
const intObj = (m: ReadonlyMap<number, string>) => Object.fromEntries([...m].map(([k, v]) => [String(k), v]));

function mustFrame(bytes: Uint8Array): TTHeaderFrame {
  const r = decodeFrame(bytes);
  if (!r.ok) throw r.error;
  return r.value;
}

function mustMessage(frame: TTHeaderFrame): RpcMessage {
  const r = decodePayload(frame.payload);
  if (!r.ok) throw r.error;
  return r.value;
}

/** Header block bytes the decoded sections take, so the padding count can be checked. */
function sectionBytes(f: TTHeaderFrame): number {
  const enc = (s: string) => new TextEncoder().encode(s).byteLength;
  let n = 2;
  if (f.aclToken !== undefined) n += 3 + enc(f.aclToken);
  if (f.strHeaders.size) n += 3 + [...f.strHeaders].reduce((a, [k, v]) => a + 4 + enc(k) + enc(v), 0);
  if (f.intHeaders.size) n += 3 + [...f.intHeaders].reduce((a, [, v]) => a + 4 + enc(v), 0);
  return n;
}

describe("kitex-captured frames", () => {
  const files = load("kitex-captured");
  test("the directory holds the captured frames", () => {
    expect(files.length).toBeGreaterThanOrEqual(29);
  });

  for (const file of files) {
    test(`${file.name} decodes to its comment header`, () => {
      const want = parseComments(file.comments);
      expect(file.bytes.byteLength).toBe(want.len + 4);
      expect(new DataView(file.bytes.buffer).getUint16(4)).toBe(want.magic);
      const frame = mustFrame(file.bytes);
      expect(frame.flags).toBe(want.flags);
      expect(frame.seqId).toBe(want.seq);
      expect(frame.protocolId).toBe(want.protoId);
      expect(want.transforms).toBe(0);
      expect(strObj(frame.strHeaders)).toEqual(want.str);
      expect(intObj(frame.intHeaders)).toEqual(want.int);
      expect(frame.aclToken).toBeUndefined();
      // Sections as listed: str(n), int(n), one 'pad' per padding byte.
      const strSec = want.sections.find((s) => s.startsWith("str("));
      const intSec = want.sections.find((s) => s.startsWith("int("));
      expect(strSec ? Number(strSec.slice(4, -1)) : 0).toBe(frame.strHeaders.size);
      expect(intSec ? Number(intSec.slice(4, -1)) : 0).toBe(frame.intHeaders.size);
      expect(want.headerWords * 4 - sectionBytes(frame)).toBe(want.sections.filter((s) => s === "pad").length);

      const msg = mustMessage(frame);
      expect(msg.codec).toBe(want.payload.codec);
      expect(msg.type).toBe(want.payload.type);
      expect(msg.method).toBe(want.payload.method);
      expect(msg.seqId).toBe(want.payload.seq);
      expect(bytesToHex(msg.body)).toBe(bytesToHex(want.payload.body));
      if (want.payload.frameLen !== undefined) expect(new DataView(frame.payload.buffer, frame.payload.byteOffset).getUint32(0)).toBe(want.payload.frameLen);

      // Direction and mode agree with the frame: requests are calls, mux requests carry 0x0001, replies carry 0.
      if (want.direction === "client->server") {
        expect(msg.type).toBe(MessageType.call);
        expect(frame.flags).toBe(want.mode.startsWith("mux") ? HeaderFlag.supportOutOfOrder : 0);
      } else {
        expect(want.direction).toBe("server->client");
        expect([MessageType.reply, MessageType.exception]).toContain(msg.type as 2 | 3);
        expect(frame.flags).toBe(0);
      }
      if (msg.type === MessageType.exception) {
        const ex = decodeException(msg);
        expect(ex.ok).toBe(true);
      }
    });

    test(`${file.name} re-encodes to the same bytes`, () => {
      const frame = mustFrame(file.bytes);
      const msg = mustMessage(frame);
      // Decoded maps keep wire order, so even multi-key sections re-encode byte for byte.
      expect(bytesToHex(encodeMessageFrame(frame, msg))).toBe(bytesToHex(file.bytes));
      const want = parseComments(file.comments);
      const single = Object.keys(want.str).length <= 1 && Object.keys(want.int).length <= 1;
      if (!single) return;
      // Built from the comment alone (not from our decoder): the exact captured bytes.
      const built = encodeMessageFrame(
        {
          flags: want.flags,
          seqId: want.seq,
          strHeaders: new Map(Object.entries(want.str)),
          intHeaders: new Map(Object.entries(want.int).map(([k, v]) => [Number(k), v])),
        },
        { codec: want.payload.codec, framed: want.payload.codec === "kitex-protobuf", type: want.payload.type, method: want.payload.method, seqId: want.payload.seq, body: want.payload.body },
      );
      expect(bytesToHex(built)).toBe(bytesToHex(file.bytes));
    });
  }

  test("semantics: biz errors, exceptions, crrst and the control frame", () => {
    const byName = new Map(files.map((f) => [f.name.slice(0, 2), f]));
    const frameOf = (n: string) => mustFrame(byName.get(n)!.bytes);
    const biz = (n: string) => {
      const r = readBizStatus(frameOf(n).strHeaders);
      if (!r.ok) throw r.error;
      return r.value;
    };
    expect(biz("03")).toEqual({ status: 1001, message: "user not found" });
    expect(biz("04")).toEqual({ status: 1002, message: "quota exceeded", extra: { retry_after: "5" } });
    expect(biz("19")).toEqual({ status: 1001, message: "user not found" });
    expect(biz("14")).toBeUndefined(); // the default Kitex config loses it (§12.10)
    expect(biz("02")).toBeUndefined();
    const exc = (n: string) => {
      const r = decodeException(mustMessage(frameOf(n)));
      if (!r.ok) throw r.error;
      return r.value;
    };
    expect(exc("05")).toEqual({ typeId: 6, message: "biz error: boom: handler failed" });
    expect(exc("07")).toEqual({ typeId: 1, message: "unknown method Missing" });
    expect(exc("33")).toEqual({ typeId: 1, message: "unknown method echo" });
    expect(hasConnReset(frameOf("07"))).toBe(true);
    expect(hasConnReset(frameOf("24"))).toBe(true);
    expect(hasConnReset(frameOf("21"))).toBe(false);
    expect(isControlFrame(frameOf("22"))).toBe(true);
    expect(bytesToHex(encodeControlFrame())).toBe(bytesToHex(byName.get("22")!.bytes));
  });
});

describe("hand-derived vectors", () => {
  const files = new Map(load("hand-derived").map((f) => [f.name, f]));
  const get = (n: string) => {
    const f = files.get(n);
    if (!f) throw new Error(`missing vector ${n}`);
    const m = /\((\d+) B[;)]/.exec(f.comments[0]!);
    expect(m && Number(m[1])).toBe(f.bytes.byteLength);
    return f.bytes;
  };
  const decode = (n: string) => {
    const frame = mustFrame(get(n));
    return { frame, msg: mustMessage(frame) };
  };
  const reencodes = (n: string) => {
    const { frame, msg } = decode(n);
    expect(bytesToHex(encodeMessageFrame(frame, msg))).toBe(bytesToHex(get(n)));
  };

  test("V1: KitexProtobuf CALL seq 1 Echo {1:'hi'}, no headers", () => {
    const { frame, msg } = decode("V1");
    expect(frame).toMatchObject({ flags: 0, seqId: 1, protocolId: 0, aclToken: undefined });
    expect(frame.strHeaders.size + frame.intHeaders.size).toBe(0);
    expect(msg).toMatchObject({ codec: "kitex-protobuf", framed: true, type: MessageType.call, method: "Echo", seqId: 1 });
    expect(bytesToHex(msg.body)).toBe("0a026869");
    reencodes("V1");
  });

  test("V2: the matching REPLY", () => {
    const { frame, msg } = decode("V2");
    expect(frame.seqId).toBe(1);
    expect(msg).toMatchObject({ type: MessageType.reply, method: "Echo", seqId: 1 });
    expect(bytesToHex(msg.body)).toBe("0a026869");
    reencodes("V2");
  });

  test("V3: EXCEPTION ErrorProto{1, 'unknown method Echo'}", () => {
    const { msg } = decode("V3");
    expect(msg.type).toBe(MessageType.exception);
    const ex = decodeException(msg);
    expect(ex.ok && ex.value).toEqual({ typeId: 1, message: "unknown method Echo" });
    reencodes("V3");
  });

  test("V4: traceparent KV and int KVs {9,6}, seq 7", () => {
    const { frame, msg } = decode("V4");
    expect(frame.seqId).toBe(7);
    expect(strObj(frame.strHeaders)).toEqual({ RPC_TRANSIT_traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    expect(intObj(frame.intHeaders)).toEqual({ "9": "Echo", "6": "echo.svc" });
    expect(msg).toMatchObject({ type: MessageType.call, method: "Echo", seqId: 7 });
    reencodes("V4");
  });

  test("V5/V6: Thrift call and TApplicationException", () => {
    const v5 = decode("V5").msg;
    expect(v5).toMatchObject({ codec: "thrift-binary", framed: false, type: MessageType.call, method: "echo", seqId: 1 });
    const v6 = decode("V6").msg;
    expect(v6).toMatchObject({ codec: "thrift-binary", type: MessageType.exception, method: "echo" });
    const ex = decodeException(v6);
    expect(ex.ok && ex.value).toEqual({ typeId: 1, message: "unknown method Echo" });
    reencodes("V5");
    reencodes("V6");
  });

  test("V7: mux control frame, and our encoder makes it byte for byte", () => {
    const { frame, msg } = decode("V7");
    expect(frame.seqId).toBe(0);
    expect(isControlFrame(frame) && hasConnReset(frame)).toBe(true);
    expect(msg).toMatchObject({ codec: "thrift-binary", type: MessageType.reply, method: "none", seqId: 0 });
    expect(bytesToHex(encodeControlFrame())).toBe(bytesToHex(get("V7")));
  });

  test("V8: mux flags and ACL token", () => {
    const { frame, msg } = decode("V8");
    expect(frame.flags).toBe(HeaderFlag.supportOutOfOrder);
    expect(frame.aclToken).toBe("tok");
    expect(frame.strHeaders.size).toBe(0);
    expect(msg).toMatchObject({ type: MessageType.call, method: "Echo", seqId: 5, body: new Uint8Array(0) });
    reencodes("V8");
    // Kitex moves RPC_TRANSIT_gdpr-token into the ACL section (§1.3); so do we.
    const viaHeader = encodeFrame({ flags: 1, seqId: 5, strHeaders: new Map([["RPC_TRANSIT_gdpr-token", "tok"]]), payload: frame.payload });
    expect(bytesToHex(viaHeader)).toBe(bytesToHex(get("V8")));
  });

  test("V9: Apache THeader is rejected, by the frame and the stream decoder", () => {
    const bytes = get("V9");
    const r = decodeFrame(bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(GatewayError.is(r.error)).toBe(true);
    expect(r.error.code).toBe(GrpcCode.UNAVAILABLE);
    expect(r.error.reason).toBe("upstream_protocol_error");
    expect(r.error.message).toContain("second4Bytes=0x0fff0000");
    const d = new FrameDecoder();
    const out = d.push(bytes.subarray(0, 6)); // the magic alone is enough to reject it
    expect(out.frames).toHaveLength(0);
    expect(out.error?.reason).toBe("upstream_protocol_error");
    expect(d.buffered).toBe(0);
  });
});
