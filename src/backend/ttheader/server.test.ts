// The TTHeader server kit on real loopback sockets: raw frames (compared with
// what real Kitex sends) and our own mux / pingpong connections.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { GatewayError, GrpcCode, bytesToHex, hexToBytes } from "../../core/index.ts";
import { FrameDecoder, decodeException, decodePayload, encodeMessageFrame, type RpcMessage, type TTHeaderFrame } from "../../protocol/ttheader/index.ts";
import { connectTcp, listenTcp } from "../../runtime/shared/node-net.ts";
import type { TcpConnection } from "../../runtime/types.ts";
import { createMuxConnection, createPingpongConnection, type TTHeaderConnection } from "../../upstream/ttheader/index.ts";
import { ECHO, echoCodec, echoService, type EchoLog } from "./echo-service.case.ts";
import { serveTTHeader, type TTHeaderServer } from "./index.ts";

const VECTORS = new URL("../../../../shared/protocol/vectors/", import.meta.url);
function vector(path: string): Uint8Array {
  const text = readFileSync(new URL(path, VECTORS), "utf8");
  return hexToBytes(text.split("\n").filter((l) => !l.startsWith("#")).join(""));
}

let registry: Registry;
let codec: ReturnType<typeof echoCodec>;
const servers: TTHeaderServer[] = [];
const clients: TTHeaderConnection[] = [];

beforeAll(() => {
  const bytes = readFileSync(new URL("../../../idl/descriptors.binpb", import.meta.url));
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(bytes)));
  codec = echoCodec(registry);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => s.destroy()));
});

async function start(extra?: Partial<Parameters<typeof serveTTHeader>[0]>): Promise<{ server: TTHeaderServer; log: EchoLog; errors: unknown[] }> {
  const log: EchoLog = { calls: [], aborted: [] };
  const errors: unknown[] = [];
  const server = await serveTTHeader({ listenTcp, hostname: "127.0.0.1", port: 0, service: echoService(registry, log), onError: (e) => errors.push(e), ...extra });
  servers.push(server);
  return { server, log, errors };
}

function client(mode: "mux" | "pingpong", port: number): TTHeaderConnection {
  const c = (mode === "mux" ? createMuxConnection : createPingpongConnection)({ connectTcp, host: "127.0.0.1", port, connectTimeoutMs: 1000 });
  clients.push(c);
  return c;
}

/** A raw socket that collects the frames (and raw bytes) the server sends. */
async function rawSocket(port: number) {
  const frames: TTHeaderFrame[] = [];
  const d = new FrameDecoder();
  let bytes = 0;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const sock: TcpConnection = await connectTcp({ host: "127.0.0.1", port }, {
    data(chunk) {
      bytes += chunk.byteLength;
      frames.push(...d.push(chunk).frames);
    },
    drain() {},
    close: () => resolveClosed(),
  });
  return { sock, frames, closed, get bytes() { return bytes; } };
}

function message(f: TTHeaderFrame): RpcMessage {
  const m = decodePayload(f.payload);
  if (!m.ok) throw m.error;
  return m.value;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
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

describe("raw frames: our replies match real Kitex", () => {
  test("V1 gets the reply a Kitex server with ServerTTHeaderHandler sends (captured 31), byte for byte", async () => {
    const { server } = await start();
    const raw = await rawSocket(server.port);
    raw.sock.write(vector("hand-derived/V1.hex"));
    await until(() => raw.frames.length === 1);
    expect(bytesToHex(encodeMessageFrame(raw.frames[0]!, message(raw.frames[0]!)))).toBe(bytesToHex(vector("kitex-captured/31_replay_V1_reply_tth_server.hex")));
    raw.sock.destroy();
  });

  test("V8 (mux flags, ACL token) gets captured reply 34; the handler sees gdpr-token", async () => {
    const { server, log } = await start();
    const raw = await rawSocket(server.port);
    raw.sock.write(vector("hand-derived/V8.hex"));
    await until(() => raw.frames.length === 1);
    const got = raw.frames[0]!;
    expect(bytesToHex(encodeMessageFrame(got, message(got)))).toBe(bytesToHex(vector("kitex-captured/34_replay_V8_reply_mux_server.hex")));
    expect(log.calls[0]!.metadata).toEqual({ "gdpr-token": "tok" });
    raw.sock.destroy();
  });

  test("Kitex's own request (captured 01) is served; metainfo reaches the handler", async () => {
    const { server, log } = await start();
    const raw = await rawSocket(server.port);
    raw.sock.write(vector("kitex-captured/01_nonmux_request_echo.hex"));
    await until(() => raw.frames.length === 1);
    const m = message(raw.frames[0]!);
    expect(m).toMatchObject({ type: 2, method: "Echo", seqId: 1 });
    expect(codec.response(m.body)).toMatchObject({ text: "hello", n: 42n });
    expect(bytesToHex(codec.response(m.body).blob)).toBe("00ff");
    expect(log.calls[0]!.metadata).toEqual({ "rpc-persist-pk": "pv", tk: "tv" });
    // int key 12 = "3000": the handler got a deadline about 3 s out.
    expect(log.calls[0]!.deadline! - Date.now()).toBeGreaterThan(2000);
    raw.sock.destroy();
  });

  test("biz error reply: Reply with empty body and biz-* headers, like captured 04", async () => {
    const { server } = await start();
    const raw = await rawSocket(server.port);
    const req = encodeMessageFrame({}, { codec: "kitex-protobuf", framed: true, type: 1, method: "Echo", seqId: 3, body: codec.request({ text: "bizextra" }) });
    raw.sock.write(req);
    await until(() => raw.frames.length === 1);
    const f = raw.frames[0]!;
    expect(Object.fromEntries(f.strHeaders)).toEqual(Object.fromEntries(decodeFrameOf("kitex-captured/04_nonmux_reply_bizstatus_extra_1002.hex").strHeaders));
    expect(message(f)).toMatchObject({ type: 2, seqId: 3, body: new Uint8Array(0) });
    raw.sock.destroy();
  });

  test("unknown method on a pingpong connection: exception type 1 with crrst, then the server closes (§12.9)", async () => {
    const { server } = await start();
    const raw = await rawSocket(server.port);
    const nope = hexToBytes("0000002610000000000000010001000000000000001490010001000000044e6f7065000000010a026869");
    raw.sock.write(nope);
    await raw.closed;
    expect(raw.frames).toHaveLength(1);
    const f = raw.frames[0]!;
    expect(f.strHeaders.get("crrst")).toBe("1");
    const ex = decodeException(message(f));
    expect(ex.ok && ex.value).toEqual({ typeId: 1, message: "unknown method Nope" });
    // The same payload as Kitex v0.14.1's reply (captured 32).
    expect(bytesToHex(f.payload)).toBe(bytesToHex(decodeFrameOf("kitex-captured/32_replay_unknown_method_Nope_reply.hex").payload));
  });

  test("oneway calls run the handler and get no reply", async () => {
    const { server, log } = await start();
    const raw = await rawSocket(server.port);
    const frame = (type: number, seqId: number, text: string) =>
      encodeMessageFrame({}, { codec: "kitex-protobuf", framed: true, type, method: "Echo", seqId, body: codec.request({ text }) });
    raw.sock.write(frame(4, 1, "oneway"));
    raw.sock.write(frame(1, 2, "call"));
    await until(() => raw.frames.length === 1 && log.calls.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(raw.frames.map((f) => f.seqId)).toEqual([2]);
    expect(log.calls.map((c) => c.text).sort()).toEqual(["call", "oneway"]);
    raw.sock.destroy();
  });

  test("garbage and oversized frames: the server closes without writing a byte", async () => {
    const { server, errors } = await start({ limits: { maxFrameSize: 1024 } });
    const a = await rawSocket(server.port);
    a.sock.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await a.closed;
    expect(a.bytes).toBe(0);
    const b = await rawSocket(server.port);
    b.sock.write(hexToBytes("0001000010000000")); // announces a 64 KiB frame
    await b.closed;
    expect(b.bytes).toBe(0);
    const c = await rawSocket(server.port);
    c.sock.write(vector("hand-derived/V9.hex"));
    await c.closed;
    expect(c.bytes).toBe(0);
    expect(errors.every((e) => GatewayError.is(e) && e.reason === "upstream_protocol_error")).toBe(true);
    expect(errors).toHaveLength(3);
  });
});

function decodeFrameOf(path: string): TTHeaderFrame {
  const out = new FrameDecoder().push(vector(path));
  if (out.error) throw out.error;
  return out.frames[0]!;
}

describe("through our connections", () => {
  for (const mode of ["mux", "pingpong"] as const) {
    test(`${mode}: success, metadata both ways, exceptions and business errors`, async () => {
      const { server } = await start();
      const c = client(mode, server.port);
      const ok = await c.unary(codec.request({ text: "hello", n: 42n }), { method: ECHO });
      expect(codec.response(ok.message)).toMatchObject({ text: "hello", n: 42n });
      const meta = await c.unary(codec.request({ text: "meta" }), {
        method: ECHO,
        metadata: { traceparent: "00-abc-def-01", "rpc-persist-pk": "pv", "rpc-transit-tk": "tv" },
      });
      expect(meta.metadata).toEqual({ "seen-traceparent": "00-abc-def-01", "seen-rpc-persist-pk": "pv", "seen-tk": "tv" });

      const err = await rejection(c.unary(codec.request({ text: "err" }), { method: ECHO }));
      expect([err.code, err.reason]).toEqual([GrpcCode.INTERNAL, "upstream_status"]);
      expect(err.message).toContain("boom: handler failed");
      expect((await rejection(c.unary(codec.request({ text: "unimplemented" }), { method: ECHO }))).code).toBe(GrpcCode.UNIMPLEMENTED);
      expect((await rejection(c.unary(codec.request({ text: "notfound" }), { method: ECHO }))).code).toBe(GrpcCode.INTERNAL);
      const biz = await rejection(c.unary(codec.request({ text: "biz" }), { method: ECHO }));
      expect([biz.code, biz.reason, biz.biz]).toEqual([GrpcCode.INTERNAL, "business_error", { status: 1001, message: "user not found" }]);
      const garbage = await rejection(c.unary(new Uint8Array([0xff, 0xff, 0xff]), { method: ECHO }));
      expect(garbage.code).toBe(GrpcCode.INTERNAL);
      expect(garbage.message).toContain("ProtocolError (7)");
      const bizx = await rejection(c.unary(codec.request({ text: "bizextra" }), { method: ECHO }));
      expect(bizx.biz).toEqual({ status: 1002, message: "quota exceeded", extra: { retry_after: "5" } });
      expect(c.state).toBe("ready");
    });
  }

  test("unknown method: UNIMPLEMENTED; the mux connection stays open, the pingpong one is closed", async () => {
    const { server } = await start();
    const mux = client("mux", server.port);
    const pp = client("pingpong", server.port);
    for (const c of [mux, pp]) {
      const e = await rejection(c.unary(new Uint8Array(0), { method: { ...ECHO, method: "Missing" } }));
      expect(e.code).toBe(GrpcCode.UNIMPLEMENTED);
      expect(e.message).toContain("unknown method Missing (service EchoService)");
    }
    expect(mux.state).toBe("ready");
    await until(() => pp.state === "closed");
    const nope = (method: string) => ({ service: "demo.v1.NopeService", method, path: `/demo.v1.NopeService/${method}` });
    const svc = await rejection(mux.unary(new Uint8Array(0), { method: nope("Missing") }));
    expect(svc.code).toBe(GrpcCode.UNIMPLEMENTED);
    expect(svc.message).toContain("UnknownService (20): unknown service NopeService, method Missing");
    // Like Kitex's non-strict service search, a known method is still found when isn names another service.
    const found = await mux.unary(codec.request({ text: "by name" }), { method: nope("Echo") });
    expect(codec.response(found.message).text).toBe("by name");
  });

  test("2,000 concurrent calls through one mux connection each get their own reply", async () => {
    const { server, log } = await start({ maxInFlightPerConnection: 2000 });
    const c = client("mux", server.port);
    const calls = Array.from({ length: 2000 }, (_, i) =>
      // 1.5 s + jitter: all 2,000 are in the server at once even on a loaded machine, and finish out of order.
      c.unary(codec.request({ text: `c${i}`, n: BigInt(i), delayMs: 1500 + ((i * 7919) % 300) }), { method: ECHO, deadline: Date.now() + 30_000 }),
    );
    await until(() => c.active === 2000);
    await until(() => server.stats().inFlight === 2000, 15_000);
    expect(log.calls).toHaveLength(2000);
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => expect(codec.response(r.message)).toMatchObject({ text: `c${i}`, n: BigInt(i) }));
    expect(c.stats()).toMatchObject({ callsTotal: 2000, callsFailed: 0, unknownSeqReplies: 0, active: 0 });
  }, 40_000);

  test("ctx.signal aborts when the client's connection goes away", async () => {
    const { server, log } = await start();
    const c = client("mux", server.port);
    const p = c.unary(codec.request({ text: "waiting", delayMs: 5000 }), { method: ECHO });
    await until(() => log.calls.length === 1);
    c.destroy();
    expect((await rejection(p)).code).toBe(GrpcCode.UNAVAILABLE);
    await until(() => log.aborted.includes("waiting"));
    await until(() => server.stats().connections === 0);
  });
});

describe("graceful stop", () => {
  test("mux: control frame (= V7) first, the in-flight reply after it, then close", async () => {
    const { server } = await start({ stopGraceMs: 20 });
    const raw = await rawSocket(server.port);
    raw.sock.write(encodeMessageFrame({ flags: 1 }, { codec: "kitex-protobuf", framed: true, type: 1, method: "Echo", seqId: 9, body: codec.request({ text: "slow", delayMs: 150 }) }));
    await until(() => server.stats().inFlight === 1);
    const stopped = server.stop();
    await raw.closed;
    await stopped;
    expect(raw.frames.map((f) => f.seqId)).toEqual([0, 9]);
    expect(bytesToHex(encodeMessageFrame(raw.frames[0]!, message(raw.frames[0]!)))).toBe(bytesToHex(vector("hand-derived/V7.hex")));
    expect(codec.response(message(raw.frames[1]!).body).text).toBe("slow");
  });

  test("pingpong: the in-flight reply carries crrst, then the connection closes", async () => {
    const { server } = await start();
    const raw = await rawSocket(server.port);
    raw.sock.write(encodeMessageFrame({}, { codec: "kitex-protobuf", framed: true, type: 1, method: "Echo", seqId: 4, body: codec.request({ text: "slow", delayMs: 100 }) }));
    await until(() => server.stats().inFlight === 1);
    const stopped = server.stop();
    await raw.closed;
    await stopped;
    expect(raw.frames).toHaveLength(1);
    expect(raw.frames[0]!.strHeaders.get("crrst")).toBe("1");
    expect(message(raw.frames[0]!)).toMatchObject({ type: 2, seqId: 4 });
  });

  test("stop is bounded: a handler that ignores its signal is cut off at the timeout", async () => {
    const { server } = await start();
    const c = client("pingpong", server.port);
    const p = c.unary(codec.request({ text: "stubborn", delayMs: 3000 }), { method: ECHO });
    await until(() => server.stats().inFlight === 1);
    const t0 = Date.now();
    await server.stop({ timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(2500);
    const e = await rejection(p);
    expect([e.code, e.reason]).toEqual([GrpcCode.UNAVAILABLE, "upstream_connection_closed"]);
  });

  test("under load: every call succeeds or fails retryably (UNAVAILABLE / neverSent); none hangs", async () => {
    const { server } = await start({ stopGraceMs: 50 });
    const outcomes: { ok: boolean; code?: number; neverSent?: boolean; reason?: string; afterStop: boolean; spansStop: boolean }[] = [];
    let stopAt = Infinity;
    let stopDone = false;
    const sawDraining: string[] = [];

    // Workers act like a tiny pool: they replace a connection that is draining or closed.
    const worker = async (mode: "mux" | "pingpong") => {
      let conn = client(mode, server.port);
      conn.onStateChange((s) => s === "draining" && sawDraining.push(mode));
      let i = 0;
      while (!stopDone) {
        if (conn.state === "closed" || conn.state === "draining") {
          conn = client(mode, server.port);
          conn.onStateChange((s) => s === "draining" && sawDraining.push(mode));
        }
        const batch = mode === "mux" ? 8 : 1;
        await Promise.all(
          Array.from({ length: batch }, async () => {
            const started = Date.now();
            try {
              await conn.unary(codec.request({ text: `${mode}-${i++}`, delayMs: (i * 13) % 40 }), { method: ECHO, deadline: Date.now() + 4000 });
              outcomes.push({ ok: true, afterStop: started >= stopAt, spansStop: started < stopAt && Date.now() > stopAt });
            } catch (e) {
              const g = e as GatewayError;
              outcomes.push({ ok: false, code: g.code, neverSent: g.neverSent, reason: g.reason, afterStop: started >= stopAt, spansStop: false });
            }
          }),
        );
        if (conn.state === "closed" && Date.now() > stopAt) await new Promise((r) => setTimeout(r, 5));
      }
    };
    const workers = [worker("mux"), worker("mux"), worker("pingpong"), worker("pingpong"), worker("pingpong")];
    await new Promise((r) => setTimeout(r, 150));
    stopAt = Date.now();
    await server.stop({ timeoutMs: 3000 });
    stopDone = true;
    await Promise.all(workers);

    expect(outcomes.length).toBeGreaterThan(20);
    const failures = outcomes.filter((o) => !o.ok);
    for (const f of failures) expect(f.code === GrpcCode.UNAVAILABLE || f.neverSent === true).toBe(true);
    expect(failures.some((f) => f.code === GrpcCode.DEADLINE_EXCEEDED)).toBe(false);
    expect(outcomes.filter((o) => o.ok && !o.afterStop).length).toBeGreaterThan(10);
    // Calls in flight when stop() began were allowed to finish.
    expect(outcomes.filter((o) => o.ok && o.spansStop).length).toBeGreaterThan(0);
    expect(sawDraining).toContain("mux"); // the control frame reached the mux clients
    expect(server.stats()).toMatchObject({ connections: 0, inFlight: 0, stopping: true });
  }, 20_000);
});
