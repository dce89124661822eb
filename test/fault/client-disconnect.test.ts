// Issue 5: calls whose HTTP client goes away mid-call, over gRPC, TTHeader mux and TTHeader pingpong.
// With onClientDisconnect "continue" (the default) the upstream call runs to completion and the backend
// records it completed, never cancelled. With "cancel" the upstream call is cancelled where the protocol
// can say so: gRPC sends RST_STREAM(CANCEL), TTHeader pingpong closes the connection (the only way to
// cancel a pingpong call); the backend records the cancellations. TTHeader mux has no per-call cancel
// frame (Kitex neither): the gateway frees the call's slot at once, but the backend finishes the call.
// And the demo story: an order placed by a client that gives up after 100 ms is still placed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { portFor, PROTOCOLS, startBackend, startFaultGateway, type ProtocolName } from "../helpers/fault-gateway.ts";
import { sleepMs, waitFor } from "../helpers/fault-load.ts";
import { getJson, startDemoStack, type Stack } from "../helpers/stack.ts";

const N = 100;
const DELAY_MS = 500;
const ABORT_MS = 100;
let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

/** Fires n calls that the client aborts after abortAfterMs; resolves once every fetch has given up. */
async function abandon(url: string, body: (i: number) => unknown, n: number, abortAfterMs: number): Promise<number> {
  let aborted = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        const res = await fetch(url, { method: "POST", body: JSON.stringify(body(i)), headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(abortAfterMs) });
        await res.text();
      } catch {
        aborted++;
      }
    }),
  );
  return aborted;
}

async function gateway(protocol: ProtocolName, policy: "continue" | "cancel"): Promise<Gateway> {
  const gw = await startFaultGateway({
    // Pingpong: one connection per call in flight, so all N can be in flight at once; connections are opened
    // before the test (warm-up) so every call is on the wire well before its client gives up.
    upstream: {
      name: "demo", ...PROTOCOLS[protocol], endpoints: [`127.0.0.1:${portFor(backend, protocol)}`],
      pool: { maxConnections: 2 * N }, warmup: protocol === "ttheader-pool" ? N : 1,
    },
    routes: [{ method: "demo.v1.EchoService/Echo", onClientDisconnect: policy, timeout: "5s" }],
  });
  cleanup.push(() => gw.stop());
  return gw;
}

function snapshot() {
  return { ...backend.stats, grpc: { ...backend.stats.grpc } };
}

for (const protocol of Object.keys(PROTOCOLS) as ProtocolName[]) {
  describe(`${protocol}: ${N} calls abandoned by their client after ${ABORT_MS} ms (backend takes ${DELAY_MS} ms)`, () => {
    test("continue: the backend completes all of them, cancels none", async () => {
      const gw = await gateway(protocol, "continue");
      const before = snapshot();
      const aborted = await abandon(`${gw.url}/demo.v1.EchoService/Echo`, (i) => ({ text: `c${i}`, delayMs: DELAY_MS }), N, ABORT_MS);
      expect(aborted).toBe(N);
      await waitFor(() => backend.stats.echoCompleted - before.echoCompleted >= N, 5_000);
      await sleepMs(50);
      const completed = backend.stats.echoCompleted - before.echoCompleted;
      const cancelled = backend.stats.echoCancelled - before.echoCancelled;
      console.log(`disconnect/${protocol}/continue: ${aborted} clients gave up; backend completed ${completed}, cancelled ${cancelled}; invoker finishedAfterClientLeft ${gw.invoker.stats.finishedAfterClientLeft}`);
      expect(completed).toBe(N);
      expect(cancelled).toBe(0);
      expect(backend.stats.grpc.cancelled - before.grpc.cancelled).toBe(0);
      expect(gw.invoker.stats.finishedAfterClientLeft).toBe(N);
    }, 15_000);

    test(protocol === "ttheader-mux" ? "cancel: the gateway gives up at once, the backend (no cancel frame in TTHeader) still finishes" : "cancel: the backend sees every one of them cancelled", async () => {
      const gw = await gateway(protocol, "cancel");
      const before = snapshot();
      const aborted = await abandon(`${gw.url}/demo.v1.EchoService/Echo`, (i) => ({ text: `x${i}`, delayMs: DELAY_MS }), N, ABORT_MS);
      expect(aborted).toBe(N);
      await waitFor(() => backend.stats.echoCancelled + backend.stats.echoCompleted - before.echoCancelled - before.echoCompleted >= N, 5_000);
      await sleepMs(DELAY_MS + 100); // past the handler time: nothing completes late
      const completed = backend.stats.echoCompleted - before.echoCompleted;
      const cancelled = backend.stats.echoCancelled - before.echoCancelled;
      console.log(`disconnect/${protocol}/cancel: ${aborted} clients gave up; backend completed ${completed}, cancelled ${cancelled} (grpc RST_STREAM seen ${backend.stats.grpc.cancelled - before.grpc.cancelled}); invoker cancelledByClient ${gw.invoker.stats.cancelledByClient}`);
      expect(gw.invoker.stats.cancelledByClient).toBe(N);
      if (protocol === "ttheader-mux") {
        expect(completed).toBe(N);
        expect(cancelled).toBe(0);
      } else {
        expect(cancelled).toBe(N);
        expect(completed).toBe(0);
      }
      if (PROTOCOLS[protocol].protocol === "grpc") expect(backend.stats.grpc.cancelled - before.grpc.cancelled).toBe(N);
    }, 15_000);
  });
}

for (const protocol of ["grpc", "ttheader-mux"] as const) describe(`demo story over ${protocol}: POST /v1/orders from a client that gives up after 100 ms`, () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startDemoStack({ orderLatencyMs: 300, protocol });
  });
  afterAll(async () => {
    await s.stop();
  });

  test("the order is placed anyway and GET /v1/orders/{id} finds it a second later", async () => {
    const order = { client_order_id: "phone-1", symbol: "BTCUSDT", side: "BUY", quantity: "0.5", price: "64000" };
    let gaveUp = false;
    try {
      await fetch(`${s.url}/v1/orders`, { method: "POST", body: JSON.stringify(order), headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(100) });
    } catch {
      gaveUp = true;
    }
    expect(gaveUp).toBe(true);
    expect(s.backend.stats.ordersPlaced).toBe(0); // still on its way when the client left
    await sleepMs(1_000);
    const r = await getJson(`${s.url}/v1/orders/phone-1`);
    console.log(`orders story/${protocol}: client gave up after 100 ms; 1 s later GET -> ${r.status} ${JSON.stringify(r.json)}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ clientOrderId: "phone-1", symbol: "BTCUSDT", side: "BUY", status: "ACCEPTED" });
    expect(s.backend.stats.ordersPlaced).toBe(1);
    expect(s.backend.stats.ordersCancelled).toBe(0);
  }, 10_000);
});
