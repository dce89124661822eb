// The client session against node:http2's server (nghttp2, in a `node` child process) on 127.0.0.1:
// unary-shaped calls, streaming both ways with flow control, concurrency limits, 16 MiB bodies,
// GOAWAY, RST_STREAM, PING, and the server process killed mid-call.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { detectRuntime, type Runtime } from "../../runtime/index.ts";
import { createH2ClientSession, ErrorCode, type ClientStream, type H2ClientSession } from "./index.ts";

const SERVER = decodeURIComponent(new URL("../../../test/helpers/h2-node-server.mjs", import.meta.url).pathname);

let rt: Runtime;
const children = new Set<ChildProcess>();

async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn("node", [SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("node:http2 server did not start")), 15_000);
    createInterface({ input: child.stdout! }).once("line", (l) => {
      clearTimeout(t);
      resolve(JSON.parse(l).port);
    });
  });
  return { port, child };
}

let port = 0;

beforeAll(async () => {
  rt = await detectRuntime();
  port = (await startServer()).port;
});

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
});

interface Session {
  s: H2ClientSession;
  closes: (Error | undefined)[];
  goaways: [number, number][];
}

async function connect(p = port): Promise<Session> {
  const closes: (Error | undefined)[] = [];
  const goaways: [number, number][] = [];
  let settings!: () => void;
  const gotSettings = new Promise<void>((r) => (settings = r));
  const s = createH2ClientSession({
    authority: `http://127.0.0.1:${p}`,
    connect: rt.connectTcp,
    events: { goaway: (c, l) => goaways.push([c, l]), close: (e) => closes.push(e), remoteSettings: () => settings() },
  });
  await s.ready;
  await gotSettings;
  return { s, closes, goaways };
}

const req = (path: string, extra: Record<string, string> = {}) => ({ ":method": "POST", ":scheme": "http", ":authority": `127.0.0.1:${port}`, ":path": path, "content-type": "application/grpc", te: "trailers", ...extra });

async function serverStats(s: H2ClientSession, reset = false): Promise<{ concurrent: number; maxConcurrent: number; produced: number }> {
  const r = await collect(s.request(req("/stats", reset ? { "x-reset": "1" } : {}), { endStream: true }));
  return JSON.parse(new TextDecoder().decode(r.body));
}

interface Result {
  status?: string;
  trailers?: Record<string, string | string[]>;
  body: Uint8Array;
  rstCode?: number;
  error?: Error;
}

function collect(st: ClientStream): Promise<Result> {
  const parts: Uint8Array[] = [];
  const r: Result = { body: new Uint8Array(0) };
  st.on("response", (h) => (r.status = h[":status"] as string));
  st.on("data", (d) => parts.push(d.slice()));
  st.on("trailers", (h) => (r.trailers = { ...h }));
  st.on("error", (e) => (r.error = e));
  return new Promise((resolve) =>
    st.on("close", () => {
      r.body = concat(parts);
      r.rstCode = st.rstCode;
      resolve(r);
    }),
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("against node:http2's server (nghttp2)", () => {
  test("unary: headers, body, trailers", async () => {
    const { s } = await connect();
    const st = s.request(req("/echo"));
    const done = collect(st);
    st.end(new TextEncoder().encode("hello"));
    const r = await done;
    expect(r.status).toBe("200");
    expect(new TextDecoder().decode(r.body)).toBe("hello");
    expect(r.trailers?.["grpc-status"]).toBe("0");
    expect(r.rstCode).toBeUndefined();
    s.close();
  });

  test("server streaming to a slow consumer: flow control holds the server back, then everything arrives", async () => {
    const total = 16 * 1024 * 1024;
    const chunk = 64 * 1024;
    const { s } = await connect();
    await serverStats(s, true);
    const st = s.request(req("/stream-out", { "x-total": String(total) }), { endStream: true });
    let received = 0;
    let ok = true;
    st.on("data", (d) => {
      for (let i = 0; i < d.length; i++) {
        const pos = received + i;
        if (d[i] !== (((pos % chunk) * 31 + Math.floor(pos / chunk)) & 0xff)) ok = false;
      }
      received += d.length;
    });
    st.pause();
    // Wait until the server stops producing: it can't run more than our stream window (4 MiB) ahead,
    // plus what its own stream buffers hold.
    let last = -1;
    let produced = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      produced = (await serverStats(s)).produced;
      if (produced > 0 && produced === last) break;
      last = produced;
    }
    expect(received).toBe(0);
    await until(() => st.bufferedInbound > 0); // held for the paused consumer, not delivered
    expect(st.bufferedInbound).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(produced).toBeLessThan(6 * 1024 * 1024);
    const done = new Promise<void>((r) => st.on("close", () => r()));
    st.resume();
    await done;
    expect(received).toBe(total);
    expect(ok).toBe(true);
    expect(st.rstCode).toBeUndefined();
    s.close();
  });

  test("client streaming with back-pressure", async () => {
    const { s } = await connect();
    const st = s.request(req("/stream-in"));
    const done = collect(st);
    let waits = 0;
    for (let i = 0; i < 400; i++) {
      if (!st.write(pattern(8 * 1024, i))) {
        waits++;
        await new Promise<void>((r) => st.once("drain", () => r()));
      }
    }
    st.end();
    const r = await done;
    expect(r.trailers?.["x-bytes"]).toBe(String(400 * 8 * 1024));
    expect(waits).toBeGreaterThan(0); // 3.2 MiB against nghttp2's 64 KiB default window: writes had to wait
    s.close();
  });

  test("1,000 concurrent streams over MAX_CONCURRENT_STREAMS=100", async () => {
    const { s } = await connect();
    expect(s.maxConcurrentStreams).toBe(100);
    await serverStats(s, true);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const st = s.request(req("/echo"));
        const p = collect(st);
        st.end(new TextEncoder().encode(`call ${i}`));
        return p;
      }),
    );
    expect(results.every((r, i) => r.status === "200" && new TextDecoder().decode(r.body) === `call ${i}`)).toBe(true);
    const st = await serverStats(s);
    expect(st.maxConcurrent).toBeGreaterThan(1);
    expect(st.maxConcurrent).toBeLessThanOrEqual(100);
    expect(s.streamCount).toBe(0);
    s.close();
  });

  test("16 MiB both ways", async () => {
    const { s } = await connect();
    const body = pattern(16 * 1024 * 1024, 7);
    const st = s.request(req("/echo"));
    const done = collect(st);
    st.end(body);
    const r = await done;
    expect(r.trailers?.["x-bytes"]).toBe(String(body.length));
    expect(r.body.length).toBe(body.length);
    expect(Buffer.compare(Buffer.from(r.body), Buffer.from(body))).toBe(0);
    s.close();
  });

  test("GOAWAY mid-traffic (graceful server close): calls in flight finish, no new ones, then the session closes", async () => {
    const { s, closes, goaways } = await connect();
    const calls = Array.from({ length: 20 }, () => collect(s.request(req("/slow"), { endStream: true })));
    const closing = collect(s.request(req("/close-session"), { endStream: true }));
    await until(() => goaways.length > 0);
    expect(goaways[0]![0]).toBe(ErrorCode.NO_ERROR);
    expect(s.closed).toBe(true);
    expect(() => s.request(req("/echo"))).toThrow();
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === "200" && r.trailers?.["grpc-status"] === "0")).toBe(true);
    expect((await closing).status).toBe("200");
    await until(() => closes.length === 1);
    expect(closes[0]).toBeUndefined();
  });

  test("GOAWAY with a lower last-stream-id: streams above it are refused (never processed)", async () => {
    const { s, goaways } = await connect();
    const hung = [0, 1, 2].map(() => s.request(req("/hang"), { endStream: true }));
    const results = hung.map(collect);
    const ctl = s.request(req("/goaway-last", { "x-last": "1" }), { endStream: true });
    const ctlDone = collect(ctl);
    await until(() => goaways.length > 0);
    expect(goaways[0]).toEqual([ErrorCode.NO_ERROR, 1]);
    expect(hung.map((x) => x.id)).toEqual([1, 3, 5]);
    const [r3, r5, rc] = await Promise.all([results[1]!, results[2]!, ctlDone]);
    expect(r3.rstCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(r5.rstCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(rc.rstCode).toBe(ErrorCode.REFUSED_STREAM);
    expect(hung[0]!.destroyed).toBe(false); // stream 1 may still complete
    s.destroy();
  });

  test("RST_STREAM from the server", async () => {
    const { s } = await connect();
    const r = await collect(s.request(req("/reset"), { endStream: true }));
    expect(r.rstCode).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(r.error).toBeInstanceOf(Error);
    expect(s.closed).toBe(false);
    s.close();
  });

  test("ping", async () => {
    const { s } = await connect();
    const rtt = await s.ping(5000);
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(5000);
    s.close();
  });

  test("the server process killed mid-call: the call fails with CANCEL, the session closes with an error", async () => {
    const victim = await startServer();
    const { s, closes } = await connect(victim.port);
    const st = s.request(req("/hang"), { endStream: true });
    const done = collect(st);
    await new Promise<void>((r) => st.on("response", () => r()));
    victim.child.kill("SIGKILL");
    const r = await done;
    expect(r.rstCode).toBe(ErrorCode.CANCEL);
    await until(() => closes.length === 1);
    expect(closes[0]).toBeInstanceOf(Error);
    expect(s.closed).toBe(true);
    expect(() => s.request(req("/echo"))).toThrow();
  });
});
