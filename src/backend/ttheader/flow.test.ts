// The TTHeader server's flow limits on real loopback sockets: write back-pressure, the per-connection
// in-flight cap, the frame-read timeout for a stalled partial frame, and the idle timeout.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import net from "node:net";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { FrameDecoder, decodePayload, encodeMessageFrame, type RpcMessage, type TTHeaderFrame } from "../../protocol/ttheader/index.ts";
import { connectTcp, listenTcp } from "../../runtime/shared/node-net.ts";
import { createMuxConnection, type TTHeaderConnection } from "../../upstream/ttheader/index.ts";
import type { HandlerContext, Msg } from "../types.ts";
import { ECHO, echoCodec, echoService, type EchoLog } from "./echo-service.case.ts";
import { serveTTHeader, type TTHeaderServeOptions, type TTHeaderServer } from "./index.ts";

let registry: Registry;
let codec: ReturnType<typeof echoCodec>;
const servers: TTHeaderServer[] = [];
const closers: (() => void)[] = [];

beforeAll(() => {
  const bytes = readFileSync(new URL("../../../idl/descriptors.binpb", import.meta.url));
  registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(bytes)));
  codec = echoCodec(registry);
});

afterAll(async () => {
  for (const c of closers) c();
  await Promise.all(servers.map((s) => s.destroy()));
});

async function start(extra: Partial<TTHeaderServeOptions> = {}, wrap?: (h: (req: Msg, ctx: HandlerContext) => Promise<Msg>) => (req: Msg, ctx: HandlerContext) => Promise<Msg>) {
  const log: EchoLog = { calls: [], aborted: [] };
  const errors: unknown[] = [];
  const service = echoService(registry, log);
  const echo = service.handlers["demo.v1.EchoService/Echo"] as (req: Msg, ctx: HandlerContext) => Promise<Msg>;
  const handlers = wrap ? { "demo.v1.EchoService/Echo": wrap(echo) } : service.handlers;
  const server = await serveTTHeader({ listenTcp, hostname: "127.0.0.1", port: 0, service: { registry, handlers }, onError: (e) => errors.push(e), ...extra });
  servers.push(server);
  return { server, log, errors };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function call(seqId: number, init: { text: string; size?: number; delayMs?: number; blob?: Uint8Array }, flags = 1): Uint8Array {
  return encodeMessageFrame({ flags }, { codec: "kitex-protobuf", framed: true, type: 1, method: "Echo", seqId, body: codec.request(init) });
}

function message(f: TTHeaderFrame): RpcMessage {
  const m = decodePayload(f.payload);
  if (!m.ok) throw m.error;
  return m.value;
}

/** A raw client socket that collects the frames the server sends and notes when it closes. */
async function rawSocket(port: number) {
  const frames: TTHeaderFrame[] = [];
  const d = new FrameDecoder();
  let closedAt = 0;
  const sock = await connectTcp({ host: "127.0.0.1", port }, {
    data: (chunk) => frames.push(...d.push(chunk).frames),
    drain() {},
    close: () => (closedAt = Date.now()),
  });
  closers.push(() => sock.destroy());
  return { sock, frames, get closedAt() { return closedAt; } };
}

describe("write back-pressure", () => {
  test("a client that sends 600 calls (8 KiB each) for 64 KiB replies and does not read: reading stops, queued frames and replies stay bounded; once it reads, every reply arrives intact", async () => {
    const HIGH = 256 * 1024;
    const CAP = 8;
    const SIZE = 64 * 1024;
    const N = 600; // ~38 MiB of replies if all were dispatched
    const { server, log } = await start({ writeHighWaterBytes: HIGH, writeLowWaterBytes: 64 * 1024, maxInFlightPerConnection: CAP });
    const sock = net.connect(server.port, "127.0.0.1");
    sock.pause(); // never read until told
    closers.push(() => sock.destroy());
    await new Promise((r) => sock.once("connect", r));
    // ~4.8 MiB of requests: more than the server may read ahead once it has stopped reading.
    const padding = new Uint8Array(8 * 1024);
    sock.write(Buffer.concat(Array.from({ length: N }, (_, i) => call(i + 1, { text: `c${i + 1}`, size: SIZE, blob: padding }))));

    // The server stops reading this connection once its reply queue passes HIGH, and the calls it did start finish.
    await until(() => server.stats().pausedConnections === 1 && server.stats().inFlight === 0 && log.calls.length > 0);
    await sleep(500); // time for the server to (wrongly) go on dispatching, were it not paused
    const stalled = server.stats();
    expect(stalled.pausedConnections).toBe(1);
    // Bound: what the kernel buffers absorb (a few MiB) plus HIGH plus CAP replies; far below N calls.
    expect(stalled.callsStarted).toBeLessThan(N / 2);
    expect(log.calls.length).toBe(stalled.callsStarted);
    // Not reading means the rest stays in the client's and the kernel's buffers, not in the server's queue.
    expect(stalled.pendingFrames).toBeLessThan(N / 4);
    // Bound on the user-space queue: HIGH + CAP replies (each SIZE + < 1 KiB of framing).
    expect(stalled.peakOutboundBytes).toBeGreaterThan(HIGH);
    expect(stalled.peakOutboundBytes).toBeLessThanOrEqual(HIGH + CAP * (SIZE + 1024));
    expect(stalled.outboundBytes).toBeLessThanOrEqual(HIGH + CAP * (SIZE + 1024));

    // Now read: every call is served, each reply under its own seq id, intact.
    const replies: TTHeaderFrame[] = [];
    const d = new FrameDecoder();
    sock.on("data", (c: Uint8Array) => replies.push(...d.push(c).frames));
    sock.resume();
    await until(() => replies.length === N, 30_000);
    const seen = new Set<number>();
    for (const f of replies) {
      const m = message(f);
      const r = codec.response(m.body);
      expect(r.text).toBe(`c${m.seqId}`);
      expect(r.blob.byteLength).toBe(SIZE);
      expect(r.blob.findIndex((b) => b !== 7)).toBe(-1);
      seen.add(m.seqId);
    }
    expect(seen.size).toBe(N);
    expect(Math.min(...seen)).toBe(1);
    expect(Math.max(...seen)).toBe(N);
    expect(server.stats().peakOutboundBytes).toBeLessThanOrEqual(HIGH + CAP * (SIZE + 1024));
    await until(() => server.stats().pausedConnections === 0 && server.stats().pendingFrames === 0);
  }, 60_000);
});

describe("in-flight cap", () => {
  test("maxInFlightPerConnection 4: 20 slow calls on one mux connection never run more than 4 at once; all complete", async () => {
    let running = 0;
    let peak = 0;
    const { server } = await start({ maxInFlightPerConnection: 4 }, (echo) => async (req, ctx) => {
      peak = Math.max(peak, ++running);
      try {
        return await echo(req, ctx);
      } finally {
        running--;
      }
    });
    const c: TTHeaderConnection = createMuxConnection({ connectTcp, host: "127.0.0.1", port: server.port, connectTimeoutMs: 2000 });
    closers.push(() => c.destroy());
    const calls = Array.from({ length: 20 }, (_, i) => c.unary(codec.request({ text: `s${i}`, delayMs: 200 }), { method: ECHO, deadline: Date.now() + 30_000 }));
    // The other 16 wait in the server (the connection is not read meanwhile), not failed.
    await until(() => server.stats().pausedConnections === 1);
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => expect(codec.response(r.message).text).toBe(`s${i}`));
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(server.stats().peakInFlightPerConnection).toBeLessThanOrEqual(4);
    expect(server.stats().callsStarted).toBe(20);
    expect(c.stats()).toMatchObject({ callsFailed: 0 });
  }, 30_000);
});

describe("frame-read timeout", () => {
  test("the first bytes of a frame then silence: closed after the timeout; another connection, idle between frames for longer than it, is unaffected", async () => {
    const TIMEOUT = 300;
    const { server, errors } = await start({ frameReadTimeoutMs: TIMEOUT });
    const stalled = await rawSocket(server.port);
    const healthy = await rawSocket(server.port);
    const t0 = Date.now();
    stalled.sock.write(call(1, { text: "partial" }).subarray(0, 10));

    // Meanwhile the other connection sends whole frames, pausing 2 x TIMEOUT between two of them.
    healthy.sock.write(call(1, { text: "h1" }));
    await until(() => healthy.frames.length === 1);
    await sleep(2 * TIMEOUT);
    healthy.sock.write(call(2, { text: "h2" }));
    healthy.sock.write(call(3, { text: "h3" }));
    await until(() => healthy.frames.length === 3);

    await until(() => stalled.closedAt > 0, TIMEOUT + 5000);
    expect(stalled.closedAt - t0).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(stalled.frames).toHaveLength(0);
    expect(healthy.closedAt).toBe(0);
    expect(healthy.frames.map((f) => codec.response(message(f).body).text)).toEqual(["h1", "h2", "h3"]);
    expect(server.stats().frameReadTimeouts).toBe(1);
    expect(errors.some((e) => e instanceof Error && e.message.startsWith("frame read timeout"))).toBe(true);
  }, 20_000);
});

describe("idle timeout", () => {
  test("an idle connection is closed (a mux one after the crrst control frame); one with a call running longer than the timeout is not", async () => {
    const IDLE = 300;
    const { server } = await start({ idleTimeoutMs: IDLE, stopGraceMs: 20 });
    const silent = await rawSocket(server.port);
    const busy = await rawSocket(server.port);
    busy.sock.write(call(7, { text: "slow", delayMs: 3 * IDLE }, 0));
    const mux = await rawSocket(server.port);
    mux.sock.write(call(1, { text: "m" }));

    await until(() => silent.closedAt > 0, IDLE + 5000);
    await until(() => busy.frames.length === 1, 10_000);
    expect(codec.response(message(busy.frames[0]!).body).text).toBe("slow");
    // The busy connection was open while its call ran, and goes idle (and away) after it.
    await until(() => busy.closedAt > 0, IDLE + 5000);
    expect(busy.closedAt).toBeGreaterThan(silent.closedAt);
    await until(() => mux.closedAt > 0, IDLE + 5000);
    expect(mux.frames.map((f) => f.seqId)).toEqual([1, 0]); // the reply, then the control frame (seq id 0, spec §4.2)
    expect(mux.frames[1]!.strHeaders.get("crrst")).toBe("1");
    expect(server.stats().idleCloses).toBe(3);
    expect(server.stats().connections).toBe(0);
  }, 20_000);
});
