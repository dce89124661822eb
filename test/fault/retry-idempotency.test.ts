// Issue 5, retries against a grpc-js server, the parts test/fault/retry.test.ts leaves out:
// - "only for idempotent routes (GET, or routes marked idempotent)": a method bound to HTTP GET by
//   google.api.http (market.v1.MarketService/GetOrder) is retried without `idempotent: true`, whichever
//   way it is called; `idempotent: false` on its route turns that off; a POST-bound method with a retry
//   policy but no flag (PlaceOrder) is never retried once sent;
// - grpc-retry-pushback-ms is honoured: the retry waits the server's delay instead of the back-off, and
//   a negative pushback means "don't retry";
// - sluice_upstream_retries_total counts exactly the retries made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway, type RouteInput } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { scrape } from "../helpers/prometheus.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

/** Arrival times of the calls per key. */
const calls = new Map<string, number[]>();
/** "fail<N>-..." fails its first N calls with UNAVAILABLE; "push<ms>-..." fails its first call with that pushback. */
function outcome(key: string): grpc.ServiceError | null {
  const times = calls.get(key) ?? [];
  times.push(performance.now());
  calls.set(key, times);
  const n = times.length;
  const unavailable = (pushback?: string) => {
    const metadata = new grpc.Metadata();
    if (pushback !== undefined) metadata.set("grpc-retry-pushback-ms", pushback);
    return Object.assign(new Error("flaky"), { code: grpc.status.UNAVAILABLE, details: `flaky: call ${n} of ${key}`, metadata });
  };
  const fail = /^fail(\d+)-/.exec(key);
  if (fail && n <= Number(fail[1])) return unavailable();
  const push = /^push(-?\d+)-/.exec(key);
  if (push && n === 1) return unavailable(push[1]);
  return null;
}
const count = (key: string) => calls.get(key)?.length ?? 0;

let server: Awaited<ReturnType<typeof startGrpcJsServer>>;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  const registry = registryFromDescriptorSets([await (await runtime()).readFile(DESCRIPTORS)]);
  const order = (id: string) => ({ clientOrderId: id, orderId: `O-${id}`, symbol: "BTCUSDT", side: 1, quantity: "1", price: "1", status: 1 });
  server = await startGrpcJsServer(registry, {
    "demo.v1.EchoService": {
      Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(outcome(c.request.text), { text: c.request.text }),
    },
    "market.v1.MarketService": {
      GetOrder: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(outcome(c.request.clientOrderId), order(c.request.clientOrderId)),
      PlaceOrder: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(outcome(c.request.clientOrderId), order(c.request.clientOrderId)),
    },
  });
});
afterAll(async () => {
  for (const c of cleanup) await c();
  server.server.forceShutdown();
});

const retry = { maxAttempts: 3, initialBackoff: "5ms", maxBackoff: "20ms" };
async function gateway(routes: RouteInput[]): Promise<Gateway> {
  const gw = await startFaultGateway({ upstream: { name: "flaky", endpoints: [`127.0.0.1:${server.port}`], breaker: false }, routes });
  cleanup.push(() => gw.stop({ timeoutMs: 1000 }));
  return gw;
}
const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("which calls are idempotent", () => {
  test("a GET-bound method is retried without `idempotent: true`, over GET and over the generic POST", async () => {
    const gw = await gateway([{ method: "market.v1.MarketService/*", retry }]);
    const viaGet = await getJson(`${gw.url}/v1/orders/fail2-get`);
    const viaPost = await call(`${gw.url}/market.v1.MarketService/GetOrder`, { client_order_id: "fail2-post" });
    console.log(`idempotency: GET /v1/orders/fail2-get -> ${viaGet.status} after ${count("fail2-get")} calls; POST .../GetOrder -> ${viaPost.status} after ${count("fail2-post")} calls`);
    expect(viaGet.status).toBe(200);
    expect(viaGet.body["clientOrderId"]).toBe("fail2-get");
    expect(count("fail2-get")).toBe(3);
    expect(viaPost.status).toBe(200);
    expect(count("fail2-post")).toBe(3);
    const m = await scrape(gw.url);
    expect(m.value("sluice_upstream_retries_total", { upstream: "flaky", method: "market.v1.MarketService/GetOrder" })).toBe(4);
  });

  test("a POST-bound method with a retry policy but no idempotent flag is not retried once sent", async () => {
    const gw = await gateway([{ method: "market.v1.MarketService/*", retry }]);
    const r = await call(`${gw.url}/v1/orders`, { client_order_id: "fail1-place", symbol: "BTCUSDT", side: "BUY", quantity: "1", price: "1" });
    expect(r.status).toBe(503);
    expect(count("fail1-place")).toBe(1);
    const m = await scrape(gw.url);
    expect(m.value("sluice_upstream_retries_total", { upstream: "flaky", method: "market.v1.MarketService/PlaceOrder" })).toBeUndefined();
  });

  test("`idempotent: false` on the route overrides the GET binding", async () => {
    const gw = await gateway([{ method: "market.v1.MarketService/GetOrder", idempotent: false, retry }]);
    const r = await getJson(`${gw.url}/v1/orders/fail1-noretry`);
    expect(r.status).toBe(503);
    expect(count("fail1-noretry")).toBe(1);
  });
});

describe("grpc-retry-pushback-ms", () => {
  test("the retry waits the server's pushback (1000 ms) instead of the 5-20 ms back-off", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/Echo", idempotent: true, retry }]);
    const r = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "push1000-a" });
    const [first, second] = calls.get("push1000-a") ?? [];
    const gap = second! - first!;
    console.log(`pushback: 1000 ms asked -> retried after ${Math.round(gap)} ms, status ${r.status}`);
    expect(r.status).toBe(200);
    expect(count("push1000-a")).toBe(2);
    expect(gap).toBeGreaterThanOrEqual(950);
    const m = await scrape(gw.url);
    expect(m.value("sluice_upstream_retries_total", { upstream: "flaky", method: "demo.v1.EchoService/Echo" })).toBe(1);
  }, 15_000);

  test("a negative pushback means: don't retry", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/Echo", idempotent: true, retry }]);
    const r = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "push-1-b" });
    expect(r.status).toBe(503);
    expect(count("push-1-b")).toBe(1);
  });
});
