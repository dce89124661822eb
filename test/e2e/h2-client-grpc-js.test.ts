// Our HTTP/2 client (src/protocol/h2) under our gRPC connection (src/upstream/grpc), against a real
// @grpc/grpc-js server: unary, streaming both ways with flow control, 1,000 calls over
// MAX_CONCURRENT_STREAMS=100, 16 MiB messages, graceful shutdown (GOAWAY), ping, and a forced shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { h2SessionFactory } from "../../src/compose/index.ts";
import type { GatewayError } from "../../src/core/index.ts";
import { detectRuntime, type H2Session, type Runtime } from "../../src/runtime/index.ts";
import { createGrpcConnection, type Connection } from "../../src/upstream/index.ts";

const raw = (b: Buffer) => b;
function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return { path: `/t.T/${name}`, requestStream, responseStream, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
}
const SERVICE: grpc.ServiceDefinition = {
  Unary: method("Unary", false, false),
  Slow: method("Slow", false, false),
  ServerStream: method("ServerStream", false, true),
  ClientStream: method("ClientStream", true, false),
};
const ref = (m: string) => ({ service: "t.T", method: m, path: `/t.T/${m}` });

let rt: Runtime;
let produced = 0;
let active = 0;
let maxActive = 0;

function track<T>(fn: () => Promise<T> | T): Promise<T> {
  active++;
  maxActive = Math.max(maxActive, active);
  return Promise.resolve(fn()).finally(() => active--);
}

async function startServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({ "grpc.max_concurrent_streams": 100, "grpc.max_receive_message_length": 32 << 20, "grpc.max_send_message_length": 32 << 20 });
  server.addService(SERVICE, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      void track(() => new Promise<void>((r) => setTimeout(r, 2))).then(() => cb(null, call.request));
    },
    Slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      setTimeout(() => cb(null, call.request), 300);
    },
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const count = call.request.readUInt32BE(0);
      void (async () => {
        for (let i = 0; i < count; i++) {
          if (call.cancelled) return;
          const m = Buffer.alloc(64 * 1024, i & 0xff);
          produced += m.length;
          if (!call.write(m)) await new Promise((r) => call.once("drain", r));
        }
        call.end();
      })();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      let n = 0;
      let msgs = 0;
      call.on("data", (m: Buffer) => {
        n += m.length;
        msgs++;
      });
      call.on("end", () => cb(null, Buffer.from(`${msgs}:${n}`)));
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

let main: { server: grpc.Server; port: number };
const conns: Connection[] = [];

function connect(port: number, sessions?: H2Session[]): Connection {
  const open = h2SessionFactory({ http2Client: "sluice", tls: undefined }, rt);
  const c = createGrpcConnection({
    id: conns.length + 1,
    address: { host: "127.0.0.1", port },
    openH2Session: (o) => {
      const s = open(o);
      sessions?.push(s);
      return s;
    },
    connectTimeoutMs: 3000,
    maxMessageBytes: 32 << 20,
  });
  conns.push(c);
  return c;
}

beforeAll(async () => {
  rt = await detectRuntime();
  main = await startServer();
});

afterAll(() => {
  for (const c of conns) c.destroy();
  main.server.forceShutdown();
});

async function* messages(n: number, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < n; i++) yield new Uint8Array(size).fill(i & 0xff);
}

describe("sluice HTTP/2 client + gRPC connection against grpc-js", () => {
  test("unary", async () => {
    const c = connect(main.port);
    await c.ready;
    const r = await c.unary(new TextEncoder().encode("ping"), { method: ref("Unary") });
    expect(new TextDecoder().decode(r.message)).toBe("ping");
    expect(c.state).toBe("ready");
  });

  test("server streaming to a slow consumer: bounded buffering, then every message", async () => {
    const c = connect(main.port);
    await c.ready;
    produced = 0;
    const count = 512; // 32 MiB
    const req = new Uint8Array(4);
    new DataView(req.buffer).setUint32(0, count);
    const reply = c.stream((async function* () { yield req; })(), { method: ref("ServerStream") });
    const it = reply.messages[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    let last = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      if (produced === last) break;
      last = produced;
    }
    // Two stream windows queued for the consumer (grpc-call), one window in our stream, grpc-js's buffers.
    expect(produced).toBeLessThan(20 * 1024 * 1024);
    let n = 1;
    let ok = true;
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      if (r.value.length !== 64 * 1024 || r.value[0] !== (n & 0xff)) ok = false;
      n++;
    }
    expect(n).toBe(count);
    expect(ok).toBe(true);
    await reply.metadata;
  });

  test("client streaming", async () => {
    const c = connect(main.port);
    await c.ready;
    const reply = c.stream(messages(300, 16 * 1024), { method: ref("ClientStream") });
    const got: Uint8Array[] = [];
    for await (const m of reply.messages) got.push(m);
    expect(new TextDecoder().decode(got[0])).toBe(`300:${300 * 16 * 1024}`);
  });

  test("1,000 concurrent calls over MAX_CONCURRENT_STREAMS=100 on one connection", async () => {
    const c = connect(main.port);
    await c.ready;
    expect(c.capacity).toBe(100);
    maxActive = 0;
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.unary(new TextEncoder().encode(`m${i}`), { method: ref("Unary") })));
    expect(results.every((r, i) => new TextDecoder().decode(r.message) === `m${i}`)).toBe(true);
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(100);
  });

  test("a 16 MiB message both ways", async () => {
    const c = connect(main.port);
    await c.ready;
    const big = new Uint8Array(16 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
    const r = await c.unary(big, { method: ref("Unary") });
    expect(r.message.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(r.message), Buffer.from(big))).toBe(0);
  });

  test("ping", async () => {
    const sessions: H2Session[] = [];
    const c = connect(main.port, sessions);
    await c.ready;
    const rtt = await sessions[0]!.ping(5000);
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  test("graceful server shutdown (GOAWAY) mid-traffic: calls in flight finish, the connection drains and closes", async () => {
    const own = await startServer();
    const c = connect(own.port);
    await c.ready;
    const states: string[] = [];
    c.onStateChange((s) => states.push(s));
    const calls = Array.from({ length: 10 }, (_, i) => c.unary(new TextEncoder().encode(`s${i}`), { method: ref("Slow") }));
    await new Promise((r) => setTimeout(r, 50));
    const stopped = new Promise<void>((r) => own.server.tryShutdown(() => r()));
    const results = await Promise.all(calls);
    expect(results.map((r) => new TextDecoder().decode(r.message))).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`));
    await stopped;
    const end = Date.now() + 5000;
    while (c.state !== "closed" && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(states).toContain("draining");
    expect(c.state).toBe("closed");
    const after = await c.unary(new Uint8Array(1), { method: ref("Unary") }).catch((e: GatewayError) => e);
    expect((after as GatewayError).neverSent).toBe(true);
  });

  test("forced server shutdown mid-call: the call fails UNAVAILABLE, quickly", async () => {
    const own = await startServer();
    const c = connect(own.port);
    await c.ready;
    const call = c.unary(new Uint8Array(1), { method: ref("Slow") }).catch((e: GatewayError) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    own.server.forceShutdown();
    const err = (await call) as GatewayError;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(Date.now() - t0).toBeLessThan(3000);
    const end = Date.now() + 5000;
    while (c.state !== "closed" && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(c.state).toBe("closed");
  });
});
