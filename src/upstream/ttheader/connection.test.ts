// TTHeader connections against scripted servers on real loopback sockets.
import { afterAll, describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, hexToBytes } from "../../core/index.ts";
import {
  FrameDecoder,
  MessageType,
  decodePayload,
  encodeControlFrame,
  encodeErrorProto,
  encodeFrame,
  encodeMessageFrame,
  type RpcMessage,
  type TTHeaderFrame,
} from "../../protocol/ttheader/index.ts";
import { connectTcp, listenTcp } from "../../runtime/shared/node-net.ts";
import type { TcpConnection, TcpServerHandle } from "../../runtime/types.ts";
import type { ConnectionState, MethodRef } from "../types.ts";
import { createMuxConnection, createPingpongConnection, type TTHeaderConnection, type TTHeaderConnectionOptions } from "./index.ts";

const ECHO: MethodRef = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Received {
  frame: TTHeaderFrame;
  msg: RpcMessage;
  sock: TcpConnection;
}
type OnFrame = (r: Received) => void;

/** A TTHeader server whose behaviour each test scripts. */
async function fakeServer(onFrame: OnFrame, onRaw?: (sock: TcpConnection) => void): Promise<TcpServerHandle & { sockets: TcpConnection[] }> {
  const sockets: TcpConnection[] = [];
  const h = await listenTcp({ hostname: "127.0.0.1", port: 0 }, (sock) => {
    sockets.push(sock);
    onRaw?.(sock);
    const d = new FrameDecoder();
    return {
      data(chunk) {
        if (onRaw) return;
        const out = d.push(chunk);
        for (const frame of out.frames) {
          const m = decodePayload(frame.payload);
          if (!m.ok) throw m.error;
          onFrame({ frame, msg: m.value, sock });
        }
      },
      drain() {},
      close() {},
    };
  });
  return Object.assign(h, { sockets });
}

function reply(r: Received, body: Uint8Array, extra?: { str?: [string, string][]; type?: number; seqId?: number; payloadSeq?: number; method?: string }): void {
  r.sock.write(
    encodeMessageFrame(
      { seqId: extra?.seqId ?? r.frame.seqId, strHeaders: new Map(extra?.str ?? []), intHeaders: new Map([[22, "2"]]) },
      {
        codec: "kitex-protobuf",
        framed: true,
        type: extra?.type ?? MessageType.reply,
        method: extra?.method ?? r.msg.method,
        seqId: extra?.payloadSeq ?? extra?.seqId ?? r.msg.seqId,
        body,
      },
    ),
  );
}

const echo: OnFrame = (r) => reply(r, r.msg.body);
const servers: TcpServerHandle[] = [];
const conns: TTHeaderConnection[] = [];

async function setup(mode: "mux" | "pingpong", onFrame: OnFrame, extra?: Partial<TTHeaderConnectionOptions>, onRaw?: (sock: TcpConnection) => void) {
  const server = await fakeServer(onFrame, onRaw);
  servers.push(server);
  const options: TTHeaderConnectionOptions = { connectTcp, host: "127.0.0.1", port: server.port, connectTimeoutMs: 1000, ...extra };
  const conn = mode === "mux" ? createMuxConnection(options) : createPingpongConnection(options);
  conns.push(conn);
  await conn.ready;
  return { server, conn };
}

function states(conn: TTHeaderConnection): ConnectionState[] {
  const seen: ConnectionState[] = [];
  conn.onStateChange((s) => seen.push(s));
  return seen;
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    expect(GatewayError.is(e)).toBe(true);
    return e as GatewayError;
  }
  throw new Error("expected a rejection");
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterAll(async () => {
  for (const c of conns) c.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

describe("calls", () => {
  for (const mode of ["mux", "pingpong"] as const) {
    test(`${mode}: success, request headers and flags as the spec says`, async () => {
      const seen: Received[] = [];
      const { conn } = await setup(mode, (r) => {
        seen.push(r);
        reply(r, r.msg.body, { str: [["BK", "bv"]] });
      }, { fromService: "gw", fromMethod: "main" });
      expect(conn.protocol).toBe(mode === "mux" ? "ttheader-mux" : "ttheader-pool");
      expect(conn.capacity).toBe(mode === "mux" ? 10000 : 1);
      expect(conn.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
      const deadline = Date.now() + 3000;
      const metadata = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "rpc-persist-pk": "pv", "rpc-transit-tk": "tv", "gdpr-token": "tok" };
      const r1 = await conn.unary(enc.encode("one"), { method: ECHO, metadata, deadline });
      const r2 = await conn.unary(enc.encode("two"), { method: ECHO });
      expect(dec.decode(r1.message)).toBe("one");
      expect(dec.decode(r2.message)).toBe("two");
      expect(r1.metadata).toEqual({ bk: "bv" });

      const f = seen[0]!.frame;
      expect(f.flags).toBe(mode === "mux" ? 1 : 0);
      expect(seen.map((s) => s.frame.seqId)).toEqual([1, 2]);
      expect(seen.map((s) => s.msg.seqId)).toEqual([1, 2]);
      expect(seen[0]!.msg).toMatchObject({ codec: "kitex-protobuf", type: MessageType.call, method: "Echo" });
      expect(Object.fromEntries(f.strHeaders)).toEqual({
        isn: "EchoService",
        RPC_TRANSIT_traceparent: metadata.traceparent,
        RPC_PERSIST_PK: "pv",
        RPC_TRANSIT_TK: "tv",
      });
      expect(f.aclToken).toBe("tok");
      const ints = Object.fromEntries(f.intHeaders);
      expect(ints).toMatchObject({ 1: "framed", 3: "gw", 6: "demo.v1.EchoService", 9: "Echo", 20: "main" });
      const timeout = Number(ints[12]);
      expect(timeout).toBeGreaterThan(2500);
      expect(timeout).toBeLessThanOrEqual(3000);
      expect(seen[1]!.frame.intHeaders.has(12)).toBe(false);
      const st = conn.stats();
      expect(st).toMatchObject({ state: "ready", active: 0, callsTotal: 2, callsFailed: 0, unknownSeqReplies: 0, mode });
    });
  }

  test("exceptions map through the one table; biz errors carry biz", async () => {
    const { conn } = await setup("mux", (r) => {
      const text = dec.decode(r.msg.body);
      if (text === "err") reply(r, encodeErrorProto({ typeId: 6, message: "biz error: boom" }), { type: MessageType.exception });
      else if (text === "missing") reply(r, encodeErrorProto({ typeId: 1, message: "unknown method Missing" }), { type: MessageType.exception, payloadSeq: 0 });
      else if (text === "nosvc") reply(r, encodeErrorProto({ typeId: 20, message: "unknown service , method Echo" }), { type: MessageType.exception });
      else if (text === "odd") reply(r, encodeErrorProto({ typeId: 42, message: "?" }), { type: MessageType.exception });
      else if (text === "biz") reply(r, new Uint8Array(0), { str: [["biz-status", "1002"], ["biz-message", "quota exceeded"], ["biz-extra", '{"retry_after":"5"}']] });
      else reply(r, r.msg.body, { str: [["biz-status", "0"]] });
    });
    const call = (t: string) => conn.unary(enc.encode(t), { method: ECHO });
    const err = await rejection(call("err"));
    expect([err.code, err.reason, err.neverSent]).toEqual([GrpcCode.INTERNAL, "upstream_status", false]);
    expect(err.message).toContain("biz error: boom");
    // Exceptions skip the payload seq check: a proxy may send seq 0 there (§2.1).
    const missing = await rejection(call("missing"));
    expect([missing.code, missing.reason]).toEqual([GrpcCode.UNIMPLEMENTED, "upstream_status"]);
    expect((await rejection(call("nosvc"))).code).toBe(GrpcCode.UNIMPLEMENTED);
    expect((await rejection(call("odd"))).code).toBe(GrpcCode.UNKNOWN);
    const biz = await rejection(call("biz"));
    expect([biz.code, biz.reason]).toEqual([GrpcCode.INTERNAL, "business_error"]);
    expect(biz.biz).toEqual({ status: 1002, message: "quota exceeded", extra: { retry_after: "5" } });
    expect(dec.decode((await call("fine")).message)).toBe("fine"); // biz-status 0 is success
    expect(conn.state).toBe("ready");
    expect(conn.stats().callsFailed).toBe(5);
  });

  test("unknown method exception (captured frame 07 layout) is UNIMPLEMENTED and its crrst closes a pingpong connection", async () => {
    const { conn } = await setup("pingpong", (r) =>
      reply(r, encodeErrorProto({ typeId: 1, message: `unknown method ${r.msg.method}` }), { type: MessageType.exception, str: [["crrst", "1"]] }),
    );
    const seen = states(conn);
    const e = await rejection(conn.unary(new Uint8Array(0), { method: { ...ECHO, method: "Missing" } }));
    expect(e.code).toBe(GrpcCode.UNIMPLEMENTED);
    expect(e.message).toContain("unknown method Missing");
    expect(seen).toEqual(["draining", "closed"]);
    const after = await rejection(conn.unary(new Uint8Array(0), { method: ECHO }));
    expect([after.reason, after.neverSent]).toEqual(["connection_closed_before_send", true]);
  });

  test("reply checks: wrong payload seq or method is a protocol error; maxReplyBytes", async () => {
    const { conn } = await setup("mux", (r) => {
      const t = dec.decode(r.msg.body);
      if (t === "seq") reply(r, r.msg.body, { seqId: r.frame.seqId + 1000 });
      else if (t === "method") reply(r, r.msg.body, { method: "Other" });
      else reply(r, r.msg.body);
    });
    // Header seq 1000 off matches no call: dropped and counted; the call hits its deadline.
    const e1 = await rejection(conn.unary(enc.encode("seq"), { method: ECHO, deadline: Date.now() + 200 }));
    expect(e1.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(conn.stats().unknownSeqReplies).toBe(1);
    const e2 = await rejection(conn.unary(enc.encode("method"), { method: ECHO }));
    expect([e2.code, e2.reason]).toEqual([GrpcCode.UNAVAILABLE, "upstream_protocol_error"]);
    const e3 = await rejection(conn.unary(enc.encode("x".repeat(100)), { method: ECHO, maxReplyBytes: 10 }));
    expect([e3.code, e3.reason]).toEqual([GrpcCode.RESOURCE_EXHAUSTED, "message_too_large"]);
    expect(conn.state).toBe("ready"); // mux framing was intact: the connection survives
  });

  test("stream() is UNIMPLEMENTED", async () => {
    const { conn } = await setup("mux", echo);
    const s = conn.stream((async function* () {})(), { method: ECHO });
    const e = await rejection(s.messages[Symbol.asyncIterator]().next());
    expect(e.code).toBe(GrpcCode.UNIMPLEMENTED);
    expect((await rejection(s.metadata)).code).toBe(GrpcCode.UNIMPLEMENTED);
  });
});

describe("mux", () => {
  test("2,000 concurrent calls on one connection, replied in reverse order, each get their own reply", async () => {
    const held: Received[] = [];
    const { conn } = await setup("mux", (r) => held.push(r));
    const calls = Array.from({ length: 2000 }, (_, i) => conn.unary(enc.encode(`call-${i}`), { method: ECHO }));
    await until(() => held.length === 2000, 5000);
    expect(conn.active).toBe(2000); // all in flight at once
    for (const h of [...held].reverse()) reply(h, h.msg.body);
    const replies = await Promise.all(calls);
    expect(conn.active).toBe(0);
    replies.forEach((r, i) => expect(dec.decode(r.message)).toBe(`call-${i}`));
    expect(new Set(held.map((h) => h.frame.seqId)).size).toBe(2000);
    expect(held.every((h) => h.frame.seqId !== 0)).toBe(true);
  }, 15_000);

  test("a reply with an unknown seq id is counted and dropped", async () => {
    const { conn } = await setup("mux", (r) => {
      reply(r, enc.encode("bogus"), { seqId: 777 });
      reply(r, r.msg.body);
    });
    const r = await conn.unary(enc.encode("real"), { method: ECHO });
    expect(dec.decode(r.message)).toBe("real");
    expect(conn.stats().unknownSeqReplies).toBe(1);
    expect(conn.state).toBe("ready");
  });

  test("crrst control frame: draining, in-flight calls complete, new calls refused, then closed", async () => {
    const held: Received[] = [];
    const { conn } = await setup("mux", (r) => {
      held.push(r);
      if (held.length === 3) {
        r.sock.write(encodeControlFrame());
        setTimeout(() => held.forEach((h) => reply(h, h.msg.body)), 100);
      }
    });
    const seen = states(conn);
    const calls = ["a", "b", "c"].map((t) => conn.unary(enc.encode(t), { method: ECHO }));
    await until(() => conn.state === "draining");
    expect(conn.active).toBe(3);
    const refused = await rejection(conn.unary(enc.encode("late"), { method: ECHO }));
    expect([refused.code, refused.reason, refused.neverSent]).toEqual([GrpcCode.UNAVAILABLE, "draining", true]);
    const done = await Promise.all(calls);
    expect(done.map((r) => dec.decode(r.message))).toEqual(["a", "b", "c"]);
    expect(seen).toEqual(["draining", "closed"]);
    expect(conn.stats().unknownSeqReplies).toBe(0);
  });

  test("abort frees the slot at once; the late reply is dropped and counted", async () => {
    let late: Received | undefined;
    const { conn } = await setup("mux", (r) => {
      if (dec.decode(r.msg.body) === "slow") late = r;
      else reply(r, r.msg.body);
    });
    const ctl = new AbortController();
    const p = conn.unary(enc.encode("slow"), { method: ECHO, signal: ctl.signal });
    await until(() => late !== undefined);
    ctl.abort();
    const e = await rejection(p);
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.CANCELLED, "client_cancelled", false]);
    expect(conn.active).toBe(0);
    reply(late!, late!.msg.body);
    expect(dec.decode((await conn.unary(enc.encode("next"), { method: ECHO })).message)).toBe("next");
    expect(conn.stats().unknownSeqReplies).toBe(1);
    // Already aborted: refused before sending.
    const pre = await rejection(conn.unary(enc.encode("x"), { method: ECHO, signal: AbortSignal.abort() }));
    expect([pre.code, pre.neverSent]).toEqual([GrpcCode.CANCELLED, true]);
  });
});

describe("pingpong", () => {
  test("one call at a time; abort discards the connection", async () => {
    const { conn } = await setup("pingpong", () => {});
    const ctl = new AbortController();
    const p = conn.unary(enc.encode("a"), { method: ECHO, signal: ctl.signal });
    const busy = await rejection(conn.unary(enc.encode("b"), { method: ECHO }));
    expect([busy.code, busy.neverSent]).toEqual([GrpcCode.RESOURCE_EXHAUSTED, true]);
    ctl.abort();
    expect((await rejection(p)).code).toBe(GrpcCode.CANCELLED);
    expect(conn.state).toBe("closed");
  });

  test("deadline: DEADLINE_EXCEEDED, connection discarded; a past deadline is never sent", async () => {
    const seen: Received[] = [];
    const { conn } = await setup("pingpong", (r) => seen.push(r));
    const past = await rejection(conn.unary(enc.encode("a"), { method: ECHO, deadline: Date.now() - 1 }));
    expect([past.code, past.neverSent]).toEqual([GrpcCode.DEADLINE_EXCEEDED, true]);
    const e = await rejection(conn.unary(enc.encode("b"), { method: ECHO, deadline: Date.now() + 100 }));
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.DEADLINE_EXCEEDED, "upstream_deadline_exceeded", false]);
    expect(seen).toHaveLength(1);
    expect(conn.state).toBe("closed");
  });

  test("crrst on a reply: the call succeeds, then the connection closes", async () => {
    const { conn } = await setup("pingpong", (r) => reply(r, r.msg.body, { str: [["crrst", "1"]] }));
    const seen = states(conn);
    expect(dec.decode((await conn.unary(enc.encode("x"), { method: ECHO })).message)).toBe("x");
    expect(seen).toEqual(["draining", "closed"]);
  });
});

describe("failures", () => {
  test("connection loss with calls in flight: UNAVAILABLE, not neverSent; later calls fail at once as never sent", async () => {
    const { conn, server } = await setup("mux", () => {});
    const calls = [conn.unary(enc.encode("a"), { method: ECHO }), conn.unary(enc.encode("b"), { method: ECHO })];
    await until(() => server.sockets.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    server.sockets[0]!.destroy();
    for (const c of calls) {
      const e = await rejection(c);
      expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.UNAVAILABLE, "upstream_connection_closed", false]);
    }
    expect(conn.state).toBe("closed");
    const e = await rejection(conn.unary(enc.encode("c"), { method: ECHO }));
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.UNAVAILABLE, "connection_closed_before_send", true]);
  });

  test("oversized reply frame: its call fails with message_too_large; the connection stays, skipping the frame unbuffered", async () => {
    const { conn } = await setup("mux", (r) => {
      const header = new Uint8Array(14);
      const v = new DataView(header.buffer);
      v.setUint32(0, 64 * 1024 * 1024); // announces a 64 MiB frame
      v.setUint16(4, 0x1000);
      v.setInt32(8, r.frame.seqId);
      v.setUint16(12, 1);
      r.sock.write(header);
      r.sock.write(new Uint8Array(4096));
    }, { limits: { maxFrameSize: 1 << 20 } });
    const e = await rejection(conn.unary(enc.encode("a"), { method: ECHO }));
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.RESOURCE_EXHAUSTED, "message_too_large", false]);
    expect(e.message).toContain("exceeds the limit of 1048576");
    expect(conn.state).toBe("ready"); // other calls on a mux connection are unaffected (src/protocol/ttheader/frame-decoder-skip.test.ts)
  });

  test("garbage from the server (an HTTP reply): protocol error and close", async () => {
    const { conn } = await setup("pingpong", (r) => r.sock.write(enc.encode("HTTP/1.1 400 Bad Request\r\n\r\n")));
    const e = await rejection(conn.unary(enc.encode("a"), { method: ECHO }));
    expect([e.code, e.reason]).toEqual([GrpcCode.UNAVAILABLE, "upstream_protocol_error"]);
    expect(e.message).toContain("not a TTHeader frame");
    expect(conn.state).toBe("closed");
  });

  test("a truncated frame then close: UNAVAILABLE, never hangs", async () => {
    const v1 = hexToBytes("0000002610000000000000010001000000000000001490010002000000044563686f000000010a026869");
    const { conn } = await setup("pingpong", (r) => {
      r.sock.write(v1.subarray(0, 20));
      setTimeout(() => r.sock.destroy(), 30);
    });
    const e = await rejection(conn.unary(enc.encode("a"), { method: ECHO }));
    expect([e.code, e.reason]).toEqual([GrpcCode.UNAVAILABLE, "upstream_connection_closed"]);
  });

  test("connect failure: ready rejects and calls fail as never sent", async () => {
    const probe = await listenTcp({ hostname: "127.0.0.1", port: 0 }, () => ({ data() {}, drain() {}, close() {} }));
    const port = probe.port;
    await probe.close(); // nothing listens there now
    const conn = createMuxConnection({ connectTcp, host: "127.0.0.1", port, connectTimeoutMs: 1000 });
    const seen = states(conn);
    const e = await rejection(conn.ready);
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.UNAVAILABLE, "upstream_connect_failed", true]);
    const c = await rejection(conn.unary(enc.encode("a"), { method: ECHO }));
    expect([c.code, c.neverSent]).toEqual([GrpcCode.UNAVAILABLE, true]);
    expect(seen).toEqual(["closed"]);
  });

  test("while connecting, a call still honours its signal and deadline (never sent)", async () => {
    const hanging: TTHeaderConnectionOptions["connectTcp"] = () => new Promise(() => {});
    const conn = createMuxConnection({ connectTcp: hanging, host: "10.0.0.1", port: 1 });
    expect(conn.state).toBe("connecting");
    const ctl = new AbortController();
    const p = conn.unary(enc.encode("a"), { method: ECHO, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 20);
    const a = await rejection(p);
    expect([a.code, a.neverSent]).toEqual([GrpcCode.CANCELLED, true]);
    const d = await rejection(conn.unary(enc.encode("b"), { method: ECHO, deadline: Date.now() + 30 }));
    expect([d.code, d.neverSent]).toEqual([GrpcCode.DEADLINE_EXCEEDED, true]);
    conn.destroy();
    expect(conn.state).toBe("closed");
  });

  test("a connect timeout from the runtime is reported as upstream_connect_timeout", async () => {
    const timingOut: TTHeaderConnectionOptions["connectTcp"] = async () => {
      const e = new Error("connect timed out");
      e.name = "ConnectTimeoutError";
      throw e;
    };
    const conn = createPingpongConnection({ connectTcp: timingOut, host: "10.0.0.1", port: 1 });
    const e = await rejection(conn.unary(enc.encode("a"), { method: ECHO }));
    expect([e.code, e.reason, e.neverSent]).toEqual([GrpcCode.UNAVAILABLE, "upstream_connect_timeout", true]);
  });

  test("destroy fails calls in flight; a request over the frame limit is refused before sending", async () => {
    const { conn } = await setup("mux", () => {}, { limits: { maxFrameSize: 256 } });
    const tooBig = await rejection(conn.unary(new Uint8Array(1000), { method: ECHO }));
    expect([tooBig.reason, tooBig.neverSent]).toEqual(["message_too_large", true]);
    const p = conn.unary(enc.encode("a"), { method: ECHO });
    await new Promise((r) => setTimeout(r, 10));
    conn.destroy(new Error("pool shutting down"));
    const e = await rejection(p);
    expect([e.code, e.neverSent]).toEqual([GrpcCode.UNAVAILABLE, false]);
    expect(e.message).toContain("pool shutting down");
  });

  test("drain() with nothing in flight closes at once", async () => {
    const { conn } = await setup("mux", echo);
    const seen = states(conn);
    conn.drain();
    expect(seen).toEqual(["draining", "closed"]);
  });
});

describe("frames on the wire", () => {
  test("a control frame without crrst is ignored", async () => {
    const { conn } = await setup("mux", (r) => {
      r.sock.write(encodeFrame({ seqId: 0, payload: encodeControlFrame().subarray(30) }));
      reply(r, r.msg.body);
    });
    expect(dec.decode((await conn.unary(enc.encode("x"), { method: ECHO })).message)).toBe("x");
    expect(conn.state).toBe("ready");
  });
});
