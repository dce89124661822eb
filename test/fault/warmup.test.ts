// Issue 4: cold start under a burst. Connections are slow to establish (a relay that admits one new
// connection at a time, 60 ms each: a slow accept loop or handshake) and connectTimeout is short (250 ms).
// The burst (60 calls at a time) needs 6 connections of 10 calls each (pool.maxConcurrentPerConnection,
// or a server's MAX_CONCURRENT_STREAMS). Without warm-up it dials all 6 at once: the dials queue up behind
// each other and the later ones hit the connect timeout. With warm-up the gateway dials them one at a
// time before it reports ready, and the burst finds them open: no connect times out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import { adminUpstream, countAttemptErrors, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { burst, percentile } from "../helpers/fault-load.ts";
import { startRelay } from "../helpers/fault-relay.ts";

let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

async function coldBurst(warmup: number) {
  const relay = await startRelay({ targets: [{ host: "127.0.0.1", port: backend.grpcPort }], establishMs: 60, serial: true });
  const t0 = performance.now();
  const gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [relay.address], connectTimeout: "250ms", warmup, breaker: false, pool: { maxConcurrentPerConnection: 10 } } });
  const startMs = performance.now() - t0;
  cleanup.push(async () => {
    await gw.stop();
    await relay.close();
  });
  const atStart = (await adminUpstream(gw, "demo")).endpoints[0]!.connections;
  const attemptErrors = countAttemptErrors(gw, "demo");
  const r = await burst({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `b${i}` }), n: 300, concurrency: 60 });
  const pool = (await adminUpstream(gw, "demo")).endpoints[0]!;
  const p99 = percentile(r.outcomes.map((o) => o.ms), 99);
  console.log(
    `cold burst, warmup ${warmup}: gateway ready after ${Math.round(startMs)} ms with ${atStart.ready} connection(s) up; 300 calls -> ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; ` +
      `attempt errors ${JSON.stringify(attemptErrors)}; connections dialled ${pool.opened}, connect failures ${pool.connectFailures}; p99 ${Math.round(p99)} ms`,
  );
  return { r, attemptErrors, pool, atStart };
}

describe("cold start: a burst of 300 calls (60 at a time) on slow connection establishment", () => {
  test("without warm-up the burst dials its connections all at once and the later dials time out", async () => {
    const { attemptErrors, pool } = await coldBurst(0);
    expect(pool.opened).toBeGreaterThanOrEqual(6);
    expect(attemptErrors.upstream_connect_timeout ?? 0).toBeGreaterThan(0);
    expect(pool.connectFailures).toBeGreaterThan(0);
  }, 20_000);

  test("with warm-up 6 the burst rides the open connections: no connect timeouts, no failures", async () => {
    const { r, attemptErrors, pool, atStart } = await coldBurst(6);
    // Ready means the warm-up connections are up (the server's SETTINGS arrived), not merely dialled.
    expect(atStart).toMatchObject({ ready: 6, connecting: 0 });
    expect(attemptErrors).toEqual({});
    expect(r.failed).toBe(0);
    expect(pool.opened).toBe(6); // nothing dialled during the burst
    expect(pool.connectFailures).toBe(0);
  }, 20_000);
});
