// Issue 5: calls whose HTTP client goes away mid-call. With onClientDisconnect "continue" (the default)
// the upstream call runs to completion and the backend records it completed, never cancelled; with
// "cancel" the upstream call is cancelled (RST_STREAM) and the backend records the cancellation.
// And the demo story: an order placed by a client that gives up after 100 ms is still placed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { sleepMs, waitFor } from "../helpers/fault-load.ts";
import { getJson, startDemoStack, type Stack } from "../helpers/stack.ts";

const N = 100;
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

async function gateway(policy: "continue" | "cancel"): Promise<Gateway> {
  const gw = await startFaultGateway({
    upstream: { name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] },
    routes: [{ method: "demo.v1.EchoService/Echo", onClientDisconnect: policy, timeout: "5s" }],
  });
  cleanup.push(() => gw.stop());
  return gw;
}

describe(`${N} calls abandoned by their client after 50 ms (backend takes 300 ms)`, () => {
  test("continue: the backend completes all of them, cancels none", async () => {
    const gw = await gateway("continue");
    const before = { ...backend.stats, grpc: { ...backend.stats.grpc } };
    const aborted = await abandon(`${gw.url}/demo.v1.EchoService/Echo`, (i) => ({ text: `c${i}`, delayMs: 300 }), N, 50);
    expect(aborted).toBe(N);
    await waitFor(() => backend.stats.echoCompleted - before.echoCompleted >= N, 3_000);
    await sleepMs(50);
    const completed = backend.stats.echoCompleted - before.echoCompleted;
    const cancelled = backend.stats.echoCancelled - before.echoCancelled;
    console.log(`disconnect/continue: ${aborted} clients gave up; backend completed ${completed}, cancelled ${cancelled} (grpc cancelled ${backend.stats.grpc.cancelled - before.grpc.cancelled}); invoker finishedAfterClientLeft ${gw.invoker.stats.finishedAfterClientLeft}`);
    expect(completed).toBe(N);
    expect(cancelled).toBe(0);
    expect(backend.stats.grpc.cancelled - before.grpc.cancelled).toBe(0);
    expect(gw.invoker.stats.finishedAfterClientLeft).toBe(N);
  }, 15_000);

  test("cancel: the backend sees every one of them cancelled", async () => {
    const gw = await gateway("cancel");
    const before = { ...backend.stats, grpc: { ...backend.stats.grpc } };
    const aborted = await abandon(`${gw.url}/demo.v1.EchoService/Echo`, (i) => ({ text: `x${i}`, delayMs: 300 }), N, 50);
    expect(aborted).toBe(N);
    await waitFor(() => backend.stats.echoCancelled - before.echoCancelled >= N, 3_000);
    await sleepMs(400); // past the 300 ms handler time: nothing completes late
    const completed = backend.stats.echoCompleted - before.echoCompleted;
    const cancelled = backend.stats.echoCancelled - before.echoCancelled;
    console.log(`disconnect/cancel: ${aborted} clients gave up; backend completed ${completed}, cancelled ${cancelled} (grpc cancelled ${backend.stats.grpc.cancelled - before.grpc.cancelled}); invoker cancelledByClient ${gw.invoker.stats.cancelledByClient}`);
    expect(cancelled).toBe(N);
    expect(completed).toBe(0);
    expect(backend.stats.grpc.cancelled - before.grpc.cancelled).toBe(N);
  }, 15_000);
});

describe("demo story: POST /v1/orders from a client that gives up after 100 ms", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startDemoStack({ orderLatencyMs: 300 });
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
    console.log(`orders story: client gave up after 100 ms; 1 s later GET -> ${r.status} ${JSON.stringify(r.json)}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ clientOrderId: "phone-1", symbol: "BTCUSDT", side: "BUY", status: "ACCEPTED" });
    expect(s.backend.stats.ordersPlaced).toBe(1);
    expect(s.backend.stats.ordersCancelled).toBe(0);
  }, 10_000);
});
