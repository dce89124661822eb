// The client session against a scripted raw-frame server on 127.0.0.1: exact frame sequences, flow
// control both ways, limits, GOAWAY, PING, and malformed frames (connection and stream errors).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startPeer, u32, type PeerConn } from "../../../test/helpers/h2-peer.ts";
import { detectRuntime, type Runtime } from "../../runtime/index.ts";
import { createH2ClientSession, ErrorCode, Flag, FrameType, H2ConnectionError, Setting, type ClientStream, type H2ClientSession, type H2ClientSessionOptions } from "./index.ts";

let rt: Runtime;
let peer: Awaited<ReturnType<typeof startPeer>>;
let nextConn: ((c: PeerConn) => void)[] = [];

beforeAll(async () => {
  rt = await detectRuntime();
  peer = await startPeer((c) => nextConn.shift()?.(c));
});
afterAll(async () => {
  await peer.close();
});

interface Opened {
  s: H2ClientSession;
  c: PeerConn;
  goaways: [number, number][];
  closes: (Error | undefined)[];
  settings: number[];
}

/** Opens a session; the peer answers with `settings` (null: the test sends its own first frame). */
async function open(settings: [number, number][] | null = [], o: Partial<H2ClientSessionOptions> = {}): Promise<Opened> {
  const conn = new Promise<PeerConn>((r) => nextConn.push(r));
  const goaways: [number, number][] = [];
  const closes: (Error | undefined)[] = [];
  const got: number[] = [];
  const s = createH2ClientSession({
    authority: `http://127.0.0.1:${peer.port}`,
    connect: rt.connectTcp,
    events: { goaway: (c, l) => goaways.push([c, l]), close: (e) => closes.push(e), remoteSettings: (m) => got.push(m) },
    ...o,
  });
  await s.ready;
  const c = await conn;
  await c.until((f) => f.some((x) => x.type === FrameType.SETTINGS));
  if (settings) c.settings(settings);
  return { s, c, goaways, closes, settings: got };
}

const REQ = { ":method": "POST", ":scheme": "http", ":authority": "x", ":path": "/p", "content-type": "application/grpc", te: "trailers" };

interface Seen {
  events: string[];
  data: number[];
  response?: Record<string, unknown>;
  trailers?: Record<string, unknown>;
  closed: Promise<void>;
  error?: Error;
}

function watch(st: ClientStream): Seen {
  const seen: Seen = { events: [], data: [], closed: undefined as unknown as Promise<void> };
  seen.closed = new Promise((r) => st.once("close", () => r()));
  st.on("response", (h) => {
    seen.events.push("response");
    seen.response = { ...h };
  });
  st.on("data", (d) => {
    seen.events.push("data");
    seen.data.push(...d);
  });
  st.on("trailers", (h) => {
    seen.events.push("trailers");
    seen.trailers = { ...h };
  });
  st.on("end", () => seen.events.push("end"));
  st.on("error", (e) => (seen.error = e));
  st.on("close", () => seen.events.push("close"));
  return seen;
}

const framesOf = (c: PeerConn, type: number, sid?: number) => c.frames.filter((f) => f.type === type && (sid === undefined || f.streamId === sid));
const goawayCode = (c: PeerConn) => {
  const g = framesOf(c, FrameType.GOAWAY)[0];
  return g ? u32(g.payload, 4) : undefined;
};
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("connection setup", () => {
  test("preface, our SETTINGS and window, the peer's SETTINGS acknowledged and applied", async () => {
    const { s, c, settings } = await open([[Setting.MAX_CONCURRENT_STREAMS, 7], [Setting.HEADER_TABLE_SIZE, 0]]);
    expect(c.prefaceOk).toBe(true);
    const first = c.frames[0]!;
    expect(first.type).toBe(FrameType.SETTINGS);
    const ours = new Map<number, number>();
    for (let p = 0; p < first.payload.length; p += 6) ours.set((first.payload[p]! << 8) | first.payload[p + 1]!, u32(first.payload, p + 2));
    expect(ours.get(Setting.ENABLE_PUSH)).toBe(0);
    expect(ours.get(Setting.INITIAL_WINDOW_SIZE)).toBe(4 * 1024 * 1024);
    const wu = framesOf(c, FrameType.WINDOW_UPDATE, 0)[0]!;
    expect(u32(wu.payload)).toBe(16 * 1024 * 1024 - 65_535);
    await c.until((f) => f.some((x) => x.type === FrameType.SETTINGS && x.flags & Flag.ACK));
    await until(() => settings.length === 1);
    expect(settings).toEqual([7]);
    expect(s.maxConcurrentStreams).toBe(7);
    s.destroy();
  });

  test("connect failure rejects ready and emits close with the error", async () => {
    const closes: (Error | undefined)[] = [];
    const s = createH2ClientSession({ authority: "http://127.0.0.1:1", connect: rt.connectTcp, events: { goaway() {}, close: (e) => closes.push(e), remoteSettings() {} } });
    await expect(s.ready).rejects.toThrow();
    expect(closes).toHaveLength(1);
    expect(closes[0]).toBeInstanceOf(Error);
    expect(s.closed).toBe(true);
    expect(() => s.request(REQ)).toThrow();
  });

  test("streams requested before a failed connect never reached the wire: they close as REFUSED_STREAM", async () => {
    const s = createH2ClientSession({ authority: "http://127.0.0.1:1", connect: rt.connectTcp, events: { goaway() {}, close() {}, remoteSettings() {} } });
    const st = s.request(REQ, { endStream: true });
    const seen = watch(st);
    await expect(s.ready).rejects.toThrow();
    await seen.closed;
    expect(st.id).toBe(1);
    expect(st.rstCode).toBe(ErrorCode.REFUSED_STREAM);
  });
});

describe("streams", () => {
  test("request, response with padding, priority, CONTINUATION, Huffman and dynamic-table references", async () => {
    const { s, c } = await open();
    const st = s.request(REQ);
    const seen = watch(st);
    st.end(new Uint8Array([1, 2, 3]));
    const h = await c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    expect(h.streamId).toBe(1);
    expect({ ...h.headers }).toEqual(REQ);
    const data = await c.until((f) => f.find((x) => x.type === FrameType.DATA && x.flags & Flag.END_STREAM));
    expect([...data.payload]).toEqual([1, 2, 3]);
    // RFC 7541 C.6.1 (literal with indexing, Huffman) in a padded HEADERS with priority, split by CONTINUATION.
    const block = Uint8Array.from(
      "4882640258 85aec3771a4b 6196d07abe941054d444a8200595040b8166e082a62d1bff 6e919d29ad171863c78f0b97c8e9ae82ae43d3".replace(/\s/g, "").match(/../g)!.map((x) => parseInt(x, 16)),
    );
    const first = [3, 0, 0, 0, 0, 16, ...block.subarray(0, 10), 0, 0, 0]; // pad length 3, priority 5 bytes
    c.frame(FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY, 1, first);
    c.frame(FrameType.CONTINUATION, 0, 1, block.subarray(10, 20));
    c.frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(20));
    c.frame(FrameType.DATA, Flag.PADDED, 1, [2, 9, 8, 7, 0, 0]); // 3 data bytes, 2 padding
    // Trailers referencing the dynamic table: 0xbe = newest entry (location).
    c.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, [0xbe]);
    await seen.closed;
    expect(seen.events).toEqual(["response", "data", "trailers", "end", "close"]);
    expect(seen.response).toEqual({ ":status": "302", "cache-control": "private", date: "Mon, 21 Oct 2013 20:13:21 GMT", location: "https://www.example.com" });
    expect(seen.data).toEqual([9, 8, 7]);
    expect(seen.trailers).toEqual({ location: "https://www.example.com" });
    expect(st.rstCode).toBeUndefined();
    expect(st.destroyed).toBe(true);
    // Second stream: C.6.2 refers to the entries C.6.1 added.
    const st2 = s.request(REQ, { endStream: true });
    const seen2 = watch(st2);
    const h2 = await c.until((f) => f.find((x) => x.type === FrameType.HEADERS && x.streamId === 3));
    expect(h2.flags & Flag.END_STREAM).toBeTruthy();
    c.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, [0x48, 0x83, 0x64, 0x0e, 0xff, 0xc1, 0xc0, 0xbf]);
    await seen2.closed;
    expect(seen2.response).toEqual({ ":status": "307", "cache-control": "private", date: "Mon, 21 Oct 2013 20:13:21 GMT", location: "https://www.example.com" });
    expect(seen2.events).toEqual(["response", "end", "close"]);
    s.destroy();
  });

  test("request headers larger than the peer's frame size go out as HEADERS + CONTINUATION", async () => {
    const { s, c } = await open();
    const big = "v".repeat(40_000);
    s.request({ ...REQ, "x-big": big }, { endStream: true });
    const h = await c.until((f) => f.find((x) => x.headers));
    expect(h.type).toBe(FrameType.CONTINUATION);
    expect(h.headers!["x-big"]).toBe(big);
    expect(framesOf(c, FrameType.CONTINUATION, 1).length).toBeGreaterThanOrEqual(2);
    const hf = framesOf(c, FrameType.HEADERS, 1)[0]!;
    expect(hf.payload.length).toBeLessThanOrEqual(16_384);
    s.destroy();
  });

  test("MAX_CONCURRENT_STREAMS: extra requests wait for a slot and open in order", async () => {
    const { s, c } = await open([[Setting.MAX_CONCURRENT_STREAMS, 2]]);
    await until(() => s.maxConcurrentStreams === 2);
    const seen = Array.from({ length: 5 }, () => watch(s.request(REQ, { endStream: true })));
    await c.until((f) => f.filter((x) => x.type === FrameType.HEADERS).length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(framesOf(c, FrameType.HEADERS).map((f) => f.streamId)).toEqual([1, 3]);
    c.respond(1, { ":status": "200" }, true);
    await c.until((f) => f.filter((x) => x.type === FrameType.HEADERS).length === 3);
    expect(framesOf(c, FrameType.HEADERS).map((f) => f.streamId)).toEqual([1, 3, 5]);
    for (const id of [3, 5]) c.respond(id, { ":status": "200" }, true);
    await c.until((f) => f.filter((x) => x.type === FrameType.HEADERS).length === 5);
    for (const id of [7, 9]) c.respond(id, { ":status": "200" }, true);
    await Promise.all(seen.map((x) => x.closed));
    expect(seen.every((x) => x.events.join() === "response,end,close")).toBe(true);
    s.destroy();
  });

  test("stream.close() sends RST_STREAM with the code", async () => {
    const { s, c } = await open();
    const st = s.request(REQ);
    await c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    st.close(ErrorCode.CANCEL);
    const rst = await c.until((f) => f.find((x) => x.type === FrameType.RST_STREAM));
    expect(rst.streamId).toBe(1);
    expect(u32(rst.payload)).toBe(ErrorCode.CANCEL);
    expect(st.rstCode).toBe(ErrorCode.CANCEL);
    expect(st.destroyed).toBe(true);
    s.destroy();
  });

  test("RST_STREAM from the server closes the stream with its code and an error", async () => {
    const { s, c } = await open();
    const st = s.request(REQ, { endStream: true });
    const seen = watch(st);
    await c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    c.frame(FrameType.RST_STREAM, 0, 1, [0, 0, 0, ErrorCode.REFUSED_STREAM]);
    await seen.closed;
    expect(st.rstCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(seen.error?.message).toContain("7");
    expect(s.closed).toBe(false);
    s.destroy();
  });

  test("a complete response before the request ends: we stop with RST_STREAM(NO_ERROR), the stream succeeds", async () => {
    const { s, c } = await open();
    const st = s.request(REQ);
    const seen = watch(st);
    st.write(new Uint8Array(10));
    await c.until((f) => f.find((x) => x.type === FrameType.DATA));
    c.respond(1, { ":status": "200", "grpc-status": "3" }, true);
    await seen.closed;
    const rst = await c.until((f) => f.find((x) => x.type === FrameType.RST_STREAM));
    expect(u32(rst.payload)).toBe(ErrorCode.NO_ERROR);
    expect(st.rstCode).toBeUndefined();
    expect(seen.events).toEqual(["response", "end", "close"]);
    expect(st.write(new Uint8Array(1))).toBe(false);
    s.destroy();
  });

  test("paused: data, trailers and end wait for resume(), in order", async () => {
    const { s, c } = await open();
    const st = s.request(REQ, { endStream: true });
    const seen = watch(st);
    await c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    c.respond(1, { ":status": "200" });
    await until(() => seen.events.length === 1);
    st.pause();
    c.frame(FrameType.DATA, 0, 1, [1]);
    c.frame(FrameType.DATA, 0, 1, [2]);
    c.respond(1, { "grpc-status": "0" }, true);
    await until(() => st.remoteEnded);
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.events).toEqual(["response"]);
    expect(st.bufferedInbound).toBe(2);
    st.resume();
    await seen.closed;
    expect(seen.events).toEqual(["response", "data", "data", "trailers", "end", "close"]);
    expect(seen.data).toEqual([1, 2]);
    s.destroy();
  });
});

describe("flow control", () => {
  test("send side: the peer's stream and connection windows bound our DATA; write() back-pressure and drain", async () => {
    const { s, c } = await open([[Setting.INITIAL_WINDOW_SIZE, 100]]);
    const st = s.request(REQ);
    await c.until((f) => f.some((x) => x.type === FrameType.SETTINGS && x.flags & Flag.ACK));
    let drained = 0;
    st.on("drain", () => drained++);
    const body = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251);
    expect(st.write(body)).toBe(false); // above the high-water mark
    st.end();
    const sent = () => framesOf(c, FrameType.DATA, 1).reduce((n, f) => n + f.payload.length, 0);
    await c.until(() => sent() === 100);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent()).toBe(100); // the stream window
    c.frame(FrameType.WINDOW_UPDATE, 0, 1, [0, 1, 0, 0]); // +65536 on the stream
    await c.until(() => sent() === 65_535); // now the connection window (65535) is the limit
    await new Promise((r) => setTimeout(r, 50));
    expect(sent()).toBe(65_535);
    expect(drained).toBe(0);
    c.frame(FrameType.WINDOW_UPDATE, 0, 0, [0, 0x10, 0, 0]); // connection +1 MiB
    c.frame(FrameType.WINDOW_UPDATE, 0, 1, [0, 0x10, 0, 0]); // stream +1 MiB
    await c.until(() => framesOf(c, FrameType.DATA, 1).some((f) => f.flags & Flag.END_STREAM));
    expect(sent()).toBe(200_000);
    const got = new Uint8Array(200_000);
    let off = 0;
    for (const f of framesOf(c, FrameType.DATA, 1)) {
      expect(f.payload.length).toBeLessThanOrEqual(16_384); // the peer's SETTINGS_MAX_FRAME_SIZE (default)
      got.set(f.payload, off);
      off += f.payload.length;
    }
    expect(got).toEqual(body);
    await until(() => drained === 1);
    s.destroy();
  });

  test("a larger SETTINGS_MAX_FRAME_SIZE from the peer is used", async () => {
    const { s, c } = await open([[Setting.MAX_FRAME_SIZE, 40_000], [Setting.INITIAL_WINDOW_SIZE, 1 << 20]]);
    await c.until((f) => f.some((x) => x.type === FrameType.SETTINGS && x.flags & Flag.ACK));
    const st = s.request(REQ);
    st.end(new Uint8Array(60_000));
    await c.until((f) => f.some((x) => x.type === FrameType.DATA && x.flags & Flag.END_STREAM));
    expect(framesOf(c, FrameType.DATA, 1).map((f) => f.payload.length)).toEqual([40_000, 20_000]);
    s.destroy();
  });

  test("receive side: WINDOW_UPDATEs are batched, and withheld while the stream is paused", async () => {
    const { s, c } = await open([], { initialWindowSize: 1 << 20 });
    const st = s.request(REQ, { endStream: true });
    let got = 0;
    st.on("data", (d) => (got += d.length));
    await c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    c.respond(1, { ":status": "200" });
    const chunk = new Uint8Array(16_384);
    for (let i = 0; i < 40; i++) c.frame(FrameType.DATA, 0, 1, chunk); // 640 KiB
    await until(() => got === 40 * 16_384);
    const updates = () => framesOf(c, FrameType.WINDOW_UPDATE, 1).map((f) => u32(f.payload));
    await c.until(() => updates().length >= 1);
    expect(updates()).toEqual([32 * 16_384]); // one update at half the window (512 KiB), not one per frame
    st.pause();
    for (let i = 0; i < 40; i++) c.frame(FrameType.DATA, 0, 1, chunk);
    await until(() => st.bufferedInbound === 40 * 16_384); // fits: 1 MiB - 640 KiB + 512 KiB credited
    await new Promise((r) => setTimeout(r, 50));
    expect(updates()).toHaveLength(1); // nothing consumed, nothing credited
    st.resume();
    await until(() => got === 80 * 16_384);
    await c.until(() => updates().length >= 2);
    expect(updates().reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(80 * 16_384);
    s.destroy();
  });

  test("the peer overrunning our connection window is a FLOW_CONTROL_ERROR", async () => {
    // One frame larger than the window (our frame size limit allows it): credit we give back on
    // receipt can't hide the overrun.
    const o = await open([], { initialWindowSize: 65_535, connectionWindowSize: 65_535, maxFrameSize: 100_000 });
    const st = o.s.request(REQ, { endStream: true });
    const seen = watch(st);
    await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    o.c.respond(1, { ":status": "200" });
    o.c.frame(FrameType.DATA, 0, 1, new Uint8Array(70_000));
    await o.c.until(() => goawayCode(o.c) !== undefined);
    expect(goawayCode(o.c)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    await seen.closed;
    expect(st.rstCode).toBe(ErrorCode.CANCEL);
    expect(o.closes[0]).toBeInstanceOf(H2ConnectionError);
  });
});

describe("connection errors: GOAWAY with the code, every stream fails, close carries the error", () => {
  const cases: [string, number, (c: PeerConn) => void, boolean?][] = [
    ["server preface that is not SETTINGS", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.PING, 0, 0, new Uint8Array(8)), true],
    ["frame above our SETTINGS_MAX_FRAME_SIZE", ErrorCode.FRAME_SIZE_ERROR, (c) => c.socket.write(Uint8Array.from([0, 0x40, 0x01, 0, 0, 0, 0, 0, 1]))],
    ["SETTINGS length not a multiple of 6", ErrorCode.FRAME_SIZE_ERROR, (c) => c.frame(FrameType.SETTINGS, 0, 0, [0, 4, 0, 0, 0])],
    ["SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR, (c) => c.frame(FrameType.SETTINGS, 0, 0, [0, 4, 0x80, 0, 0, 0])],
    ["SETTINGS_MAX_FRAME_SIZE below 16384", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.SETTINGS, 0, 0, [0, 5, 0, 0, 0, 100])],
    ["SETTINGS ACK with a payload", ErrorCode.FRAME_SIZE_ERROR, (c) => c.frame(FrameType.SETTINGS, Flag.ACK, 0, [0, 4, 0, 0, 0, 1])],
    ["SETTINGS on a stream", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.SETTINGS, 0, 1, [])],
    ["PING of 7 bytes", ErrorCode.FRAME_SIZE_ERROR, (c) => c.frame(FrameType.PING, 0, 0, new Uint8Array(7))],
    ["WINDOW_UPDATE of 0 on the connection", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 0, 0])],
    ["connection window overflow", ErrorCode.FLOW_CONTROL_ERROR, (c) => c.frame(FrameType.WINDOW_UPDATE, 0, 0, [0x7f, 0xff, 0xff, 0xff])],
    ["DATA on stream 0", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.DATA, 0, 0, [1])],
    ["DATA on an idle stream", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.DATA, 0, 99, [1])],
    ["DATA padding not shorter than the payload", ErrorCode.PROTOCOL_ERROR, (c) => {
      c.respond(1, { ":status": "200" });
      c.frame(FrameType.DATA, Flag.PADDED, 1, [3, 0, 0]);
    }],
    ["HEADERS that HPACK cannot decode", ErrorCode.COMPRESSION_ERROR, (c) => c.frame(FrameType.HEADERS, Flag.END_HEADERS, 1, [0x80])],
    ["CONTINUATION without HEADERS", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x88])],
    ["another frame inside a header block", ErrorCode.PROTOCOL_ERROR, (c) => {
      c.frame(FrameType.HEADERS, 0, 1, [0x88]);
      c.frame(FrameType.PING, 0, 0, new Uint8Array(8));
    }],
    ["HEADERS on an even (server-initiated) stream", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.HEADERS, Flag.END_HEADERS, 2, [0x88])],
    ["PUSH_PROMISE with push disabled", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, [0, 0, 0, 2, 0x82])],
    ["GOAWAY of 4 bytes", ErrorCode.FRAME_SIZE_ERROR, (c) => c.frame(FrameType.GOAWAY, 0, 0, [0, 0, 0, 0])],
    ["RST_STREAM of 3 bytes", ErrorCode.FRAME_SIZE_ERROR, (c) => c.frame(FrameType.RST_STREAM, 0, 1, [0, 0, 0])],
    ["RST_STREAM on an idle stream", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.RST_STREAM, 0, 5, [0, 0, 0, 8])],
  ];
  for (const [name, code, send, noSettings] of cases) {
    test(name, async () => {
      const o = await open(noSettings ? null : []);
      const st = o.s.request(REQ, { endStream: true });
      const seen = watch(st);
      await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
      send(o.c);
      await o.c.until(() => goawayCode(o.c) !== undefined);
      expect(goawayCode(o.c)).toBe(code);
      await seen.closed;
      expect(st.rstCode).toBe(ErrorCode.CANCEL);
      expect(seen.error).toBeInstanceOf(H2ConnectionError);
      expect(o.closes).toHaveLength(1);
      expect((o.closes[0] as H2ConnectionError).code).toBe(code);
      expect(o.s.closed).toBe(true);
      expect(() => o.s.request(REQ)).toThrow();
      await o.c.until(() => o.c.closed);
    });
  }
});

describe("stream errors: RST_STREAM for that stream only", () => {
  const cases: [string, number, (c: PeerConn) => void, Partial<H2ClientSessionOptions>?][] = [
    ["DATA before the response HEADERS", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.DATA, 0, 1, [1])],
    ["response without :status", ErrorCode.PROTOCOL_ERROR, (c) => c.respond(1, { "content-type": "x" })],
    ["uppercase header name", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.HEADERS, Flag.END_HEADERS, 1, [0x88, 0x00, 0x01, 0x41, 0x01, 0x61])],
    ["trailers without END_STREAM", ErrorCode.PROTOCOL_ERROR, (c) => {
      c.respond(1, { ":status": "200" });
      c.respond(1, { "grpc-status": "0" }, false);
    }],
    ["WINDOW_UPDATE of 0 on a stream", ErrorCode.PROTOCOL_ERROR, (c) => c.frame(FrameType.WINDOW_UPDATE, 0, 1, [0, 0, 0, 0])],
    ["DATA after END_STREAM", ErrorCode.STREAM_CLOSED, (c) => {
      c.respond(1, { ":status": "200" }, true);
    }],
    ["DATA beyond the stream window (the connection window has room)", ErrorCode.FLOW_CONTROL_ERROR, (c) => {
      c.respond(1, { ":status": "200" });
      c.frame(FrameType.DATA, 0, 1, new Uint8Array(70_000));
    }, { initialWindowSize: 65_535, maxFrameSize: 100_000 }],
    ["response header section over our limit", ErrorCode.PROTOCOL_ERROR, (c) => c.respond(1, { ":status": "200", "x-big": "y".repeat(300) }), { maxHeaderListSize: 200 }],
  ];
  for (const [name, code, send, opts] of cases) {
    test(name, async () => {
      const o = await open([], opts);
      // The client still sends: "DATA after END_STREAM" needs a stream we have not ended.
      const st = o.s.request(REQ, { endStream: name !== "DATA after END_STREAM" });
      const seen = watch(st);
      await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
      send(o.c);
      if (name === "DATA after END_STREAM") {
        // The stream ended remotely while we were still open: we reset it with NO_ERROR ourselves, after
        // which DATA is simply ignored (5.1 closed). Send it and check nothing breaks.
        await seen.closed;
        o.c.frame(FrameType.DATA, 0, 1, [1]);
      } else {
        const rst = await o.c.until((f) => f.find((x) => x.type === FrameType.RST_STREAM));
        expect(rst.streamId).toBe(1);
        expect(u32(rst.payload)).toBe(code);
        await seen.closed;
        expect(st.rstCode).toBe(code);
      }
      // The connection lives on.
      const st2 = o.s.request(REQ, { endStream: true });
      const seen2 = watch(st2);
      await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS && x.streamId === 3));
      o.c.respond(3, { ":status": "200" }, true);
      await seen2.closed;
      expect(seen2.events).toEqual(["response", "end", "close"]);
      expect(goawayCode(o.c)).toBeUndefined();
      o.s.destroy();
    });
  }
});

describe("PING", () => {
  test("the server's PING is acknowledged with the same payload", async () => {
    const { s, c } = await open();
    c.frame(FrameType.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
    const ack = await c.until((f) => f.find((x) => x.type === FrameType.PING && x.flags & Flag.ACK));
    expect([...ack.payload]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    s.destroy();
  });

  test("our PING resolves with the round-trip time on ACK, and rejects when none comes in time", async () => {
    const { s, c } = await open();
    const rtt = s.ping(2000);
    const ping = await c.until((f) => f.find((x) => x.type === FrameType.PING && !(x.flags & Flag.ACK)));
    c.frame(FrameType.PING, Flag.ACK, 0, ping.payload);
    expect(await rtt).toBeGreaterThanOrEqual(0);
    await expect(s.ping(100)).rejects.toThrow(/not acknowledged/);
    const pending = s.ping(5000);
    s.destroy();
    await expect(pending).rejects.toThrow();
  });
});

describe("GOAWAY and shutdown", () => {
  test("streams above the last id fail as refused, those below finish, no new streams, then the session closes", async () => {
    const o = await open();
    const seen = [1, 2, 3].map(() => watch(o.s.request(REQ, { endStream: true })));
    await o.c.until((f) => f.filter((x) => x.type === FrameType.HEADERS).length === 3);
    o.c.frame(FrameType.GOAWAY, 0, 0, [0, 0, 0, 3, 0, 0, 0, 0]);
    await seen[2]!.closed;
    expect(o.goaways).toEqual([[0, 3]]);
    expect(o.s.closed).toBe(true);
    expect(() => o.s.request(REQ)).toThrow(/GOAWAY/);
    o.c.respond(1, { ":status": "200" }, true);
    o.c.respond(3, { ":status": "200" }, true);
    await Promise.all(seen.map((x) => x.closed));
    expect(seen[0]!.events).toEqual(["response", "end", "close"]);
    expect(seen[1]!.events).toEqual(["response", "end", "close"]);
    expect(seen[2]!.events).toEqual(["close"]);
    await until(() => o.closes.length === 1);
    expect(o.closes[0]).toBeUndefined();
    await o.c.until(() => o.c.closed);
    expect(goawayCode(o.c)).toBe(ErrorCode.NO_ERROR); // ours, on the way out
  });

  test("refused streams carry REFUSED_STREAM and their ids; queued ones never got an id", async () => {
    const o = await open([[Setting.MAX_CONCURRENT_STREAMS, 1]]);
    await until(() => o.s.maxConcurrentStreams === 1);
    const a = o.s.request(REQ, { endStream: true });
    const b = o.s.request(REQ, { endStream: true });
    const sb = watch(b);
    await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    o.c.frame(FrameType.GOAWAY, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]);
    await sb.closed;
    expect(b.id).toBeUndefined();
    await until(() => a.destroyed);
    expect(a.id).toBe(1);
    expect(a.rstCode).toBe(ErrorCode.REFUSED_STREAM);
  });

  test("close(): no new streams, open ones finish, then GOAWAY(NO_ERROR) and the socket ends", async () => {
    const o = await open();
    const st = o.s.request(REQ, { endStream: true });
    const seen = watch(st);
    await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    o.s.close();
    expect(() => o.s.request(REQ)).toThrow();
    await new Promise((r) => setTimeout(r, 30));
    expect(o.closes).toHaveLength(0);
    o.c.respond(1, { ":status": "200" }, true);
    await seen.closed;
    await o.c.until(() => o.c.closed);
    expect(goawayCode(o.c)).toBe(ErrorCode.NO_ERROR);
    expect(o.closes).toEqual([undefined]);
  });

  test("the server going away mid-call: streams close with CANCEL, close carries an error, nothing hangs", async () => {
    const o = await open([[Setting.MAX_CONCURRENT_STREAMS, 1]]);
    await until(() => o.s.maxConcurrentStreams === 1);
    const a = watch(o.s.request(REQ, { endStream: true }));
    const bStream = o.s.request(REQ, { endStream: true });
    const b = watch(bStream);
    await o.c.until((f) => f.find((x) => x.type === FrameType.HEADERS));
    o.c.respond(1, { ":status": "200" });
    o.c.socket.destroy();
    await Promise.all([a.closed, b.closed]);
    expect(a.events).toEqual(["response", "close"]);
    expect(bStream.id).toBeUndefined();
    expect(o.closes).toHaveLength(1);
    expect(o.closes[0]?.message).toMatch(/closed/);
    expect(o.s.closed).toBe(true);
  });
});
