// Max connection age in EndpointPool, multiplexed connections (gRPC sessions, TTHeader mux) against the demo
// backend on real loopback sockets: open-before-retire under a steady stream of calls, and a replacement
// that cannot connect while the old connection keeps serving.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { demoDescriptorPath, startDemoBackend, type DemoBackend } from "../demo/demo-backend.ts";
import { detectRuntime, type Runtime } from "../runtime/index.ts";
import { createGrpcConnection, createMuxConnection, EndpointPool, type Connection, type MethodRef, type PoolOptions } from "./index.ts";

const ECHO: MethodRef = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };
const MAX_AGE_MS = 300;

let rt: Runtime;
let backend: DemoBackend;
let closedPort = 0;
const pools: EndpointPool[] = [];

beforeAll(async () => {
  rt = await detectRuntime();
  backend = await startDemoBackend({ runtime: rt, descriptorPath: demoDescriptorPath(), host: "127.0.0.1" });
  // A port nothing listens on: bound once, then closed (connects to it are refused).
  const spare = await rt.listenTcp({ hostname: "127.0.0.1", port: 0 }, () => ({ data() {}, drain() {}, close() {} }));
  closedPort = spare.port;
  await spare.close();
});

afterAll(async () => {
  for (const p of pools) p.destroy();
  await backend.stop();
});

type Proto = "grpc" | "ttheader-mux";

function connect(proto: Proto, port: number, id: number): Connection {
  const host = "127.0.0.1";
  if (proto === "grpc") {
    return createGrpcConnection({ id, address: { host, port }, openH2Session: rt.openH2Session, connectTimeoutMs: 2000, maxMessageBytes: 1 << 20 });
  }
  return createMuxConnection({ id, connectTcp: rt.connectTcp, host, port, connectTimeoutMs: 2000 });
}

/** A create() that records every connection and the most dials in progress at once (counted at each dial). */
function dialer(proto: Proto, port: () => number) {
  const made: Connection[] = [];
  let maxDialing = 0;
  return {
    made,
    get maxDialing() {
      return maxDialing;
    },
    create: (id: number) => {
      const c = connect(proto, port(), id);
      made.push(c);
      maxDialing = Math.max(maxDialing, made.filter((x) => x.state === "connecting").length);
      return c;
    },
  };
}

function backendPort(proto: Proto): number {
  return proto === "grpc" ? backend.grpcPort : backend.ttheaderPort;
}

/** EchoRequest { text = 1; delay_ms = 4 } encoded by hand (idl/demo/v1/echo.proto). */
function echoRequest(text: string, delayMs: number): Uint8Array {
  const t = new TextEncoder().encode(text);
  return new Uint8Array([0x0a, t.length, ...t, 0x20, delayMs]);
}

function makePool(proto: Proto, create: (id: number) => Connection, over: Partial<PoolOptions> = {}): EndpointPool {
  const pool = new EndpointPool({
    key: `127.0.0.1:${backendPort(proto)}`,
    upstream: "test",
    create,
    minConnections: 3,
    maxConnections: 3,
    maxConcurrentPerConnection: 100,
    idleTimeoutMs: 0,
    maxIdle: 10,
    queueSize: 100,
    queueTimeoutMs: 2000,
    maxAgeMs: MAX_AGE_MS,
    reconnectBackoff: { initialMs: 30, maxMs: 150, multiplier: 1.6, jitter: 0.2 },
    ...over,
  });
  pools.push(pool);
  return pool;
}

/** Calls in a loop from a few workers, recording failures; samples the pool's counts meanwhile. */
function steadyLoad(pool: EndpointPool, workers = 6) {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const sample = { minReady: Infinity, maxConnecting: 0 };
  const sampler = setInterval(() => {
    const c = pool.stats().connections;
    sample.minReady = Math.min(sample.minReady, c.ready);
    sample.maxConnecting = Math.max(sample.maxConnecting, c.connecting);
  }, 2);
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      let conn: Connection | undefined;
      try {
        const c = pool.acquire();
        conn = c instanceof Promise ? await c : c;
        const text = `w${w}-${i}`;
        const reply = await conn.unary(echoRequest(text, 5), { method: ECHO, deadline: Date.now() + 5000 });
        if (!new TextDecoder().decode(reply.message).includes(text)) throw new Error(`wrong reply for ${text}`);
        ok++;
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      } finally {
        if (conn) pool.release(conn);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    get ok() {
      return ok;
    },
    failures,
    sample,
    async stop() {
      running = false;
      await done;
      clearInterval(sampler);
    },
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

for (const proto of ["grpc", "ttheader-mux"] as const) {
  describe(`${proto}: max connection age`, () => {
    test("connections rotate open-before-retire under steady calls: none fails, ready never drops below the minimum", async () => {
      const d = dialer(proto, () => backendPort(proto));
      const pool = makePool(proto, d.create);
      expect(await pool.warmUp()).toBe(3);
      const first = [...d.made];
      const load = steadyLoad(pool);
      // Each of the three first connections ages out once (and their replacements start to).
      const rotated = await waitFor(() => first.every((c) => c.state === "closed") && pool.stats().age.retiredByAge >= 3, 10_000);
      await load.stop();
      expect(load.failures).toEqual([]);
      expect(load.ok).toBeGreaterThan(0);
      expect(rotated).toBe(true);
      // Open-before-retire: a replacement is ready before the old one drains, so ready stays at the minimum.
      expect(load.sample.minReady).toBeGreaterThanOrEqual(3);
      // One replacement at a time per endpoint.
      expect(d.maxDialing).toBe(1);
      expect(load.sample.maxConnecting).toBeLessThanOrEqual(1);
      // The old connections carried calls before they were retired.
      for (const c of first) expect(c.stats().callsTotal).toBeGreaterThan(0);
      expect(pool.stats().connections.ready).toBe(3);
    }, 20_000);

    test("a replacement that cannot connect leaves the old connection serving, then is retried with back-off", async () => {
      let port = backendPort(proto);
      const d = dialer(proto, () => port);
      const pool = makePool(proto, d.create, { minConnections: 1, maxConnections: 1 });
      expect(await pool.warmUp()).toBe(1);
      const old = d.made[0]!;
      port = closedPort; // every dial from now on is refused
      const load = steadyLoad(pool, 4);
      const firstFailure = await waitFor(() => pool.stats().connectFailures >= 1, 10_000);
      const callsAtFirstFailure = old.stats().callsTotal;
      const retried = await waitFor(() => pool.stats().connectFailures >= 3, 10_000);
      const callsAtThirdFailure = old.stats().callsTotal;
      const stateWhileFailing = old.state;
      // Heal: the next retry reaches the backend, and only then does the old connection go.
      port = backendPort(proto);
      const replaced = await waitFor(() => old.state === "closed", 10_000);
      await load.stop();
      expect(firstFailure).toBe(true);
      expect(retried).toBe(true);
      expect(stateWhileFailing).toBe("ready");
      // The old connection went on taking calls between failed replacements.
      expect(callsAtThirdFailure).toBeGreaterThan(callsAtFirstFailure);
      expect(load.failures).toEqual([]);
      expect(load.sample.minReady).toBeGreaterThanOrEqual(1);
      expect(d.maxDialing).toBe(1);
      expect(replaced).toBe(true);
      expect(pool.stats().age.retiredByAge).toBeGreaterThanOrEqual(1);
      expect(pool.stats().connections.ready).toBe(1);
    }, 25_000);
  });
}

test("maxAgeMs 0: connections are never retired for age", async () => {
  const made: Connection[] = [];
  const pool = makePool("ttheader-mux", (id) => {
    const c = connect("ttheader-mux", backendPort("ttheader-mux"), id);
    made.push(c);
    return c;
  }, { maxAgeMs: 0, minConnections: 1, maxConnections: 1 });
  await pool.warmUp();
  await new Promise((r) => setTimeout(r, MAX_AGE_MS * 2));
  expect(made.length).toBe(1);
  expect(made[0]!.state).toBe("ready");
  expect(pool.stats().age).toEqual({ aged: 0, replacing: false, retiredByAge: 0 });
});
