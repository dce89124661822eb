// Issue 5: retries against a real foreign gRPC server (grpc-js) that fails a given number of times and
// then succeeds. Idempotent calls are retried and recover; non-idempotent ones are never retried after
// they were sent, but are when they never left (connection refused); and when everything fails the
// per-upstream retry budget (gRFC A6) caps the retries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { adminUpstream, countAttemptErrors, runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

/** Calls seen per key; "fail<N>:..." keys fail their first N calls with UNAVAILABLE, "fail*:..." always. */
const seen = new Map<string, number>();
function outcome(key: string): grpc.ServiceError | null {
  const n = (seen.get(key) ?? 0) + 1;
  seen.set(key, n);
  const m = /^fail(\d+|\*):/.exec(key);
  if (m && (m[1] === "*" || n <= Number(m[1]))) return Object.assign(new Error("flaky"), { code: grpc.status.UNAVAILABLE, details: `flaky: call ${n} of ${key}`, metadata: new grpc.Metadata() });
  return null;
}

let server: Awaited<ReturnType<typeof startGrpcJsServer>>;
let deadPort: number;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  const rt = await runtime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  server = await startGrpcJsServer(registry, {
    "demo.v1.EchoService": {
      Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(outcome(c.request.text), { text: c.request.text }),
    },
    "market.v1.MarketService": {
      PlaceOrder: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) =>
        cb(outcome(c.request.clientOrderId), { clientOrderId: c.request.clientOrderId, orderId: `O-${c.request.clientOrderId}`, status: 1 }),
    },
  });
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  deadPort = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
});
afterAll(async () => {
  for (const c of cleanup) await c();
  server.server.forceShutdown();
});

const routes = [
  { method: "demo.v1.EchoService/Echo", idempotent: true, retry: { maxAttempts: 3, initialBackoff: "5ms", maxBackoff: "20ms" } },
  { method: "market.v1.MarketService/PlaceOrder", idempotent: false, retry: { maxAttempts: 3, initialBackoff: "5ms", maxBackoff: "20ms" } },
];

async function gateway(endpoints: string[], extra: Record<string, unknown> = {}): Promise<Gateway> {
  const gw = await startFaultGateway({ upstream: { name: "flaky", endpoints, breaker: false, ...extra }, routes });
  cleanup.push(() => gw.stop());
  return gw;
}

const order = (id: string) => ({ client_order_id: id, symbol: "BTCUSDT", side: "BUY", quantity: "1", price: "1" });

describe("retries against a grpc-js server that fails N times, then succeeds", () => {
  test("idempotent: 2 failures then success -> 200 after 3 calls; 5 failures -> 503 after maxAttempts (3)", async () => {
    const gw = await gateway([`127.0.0.1:${server.port}`]);
    const ok = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "fail2:a" });
    const bad = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "fail5:b" });
    console.log(`retry/idempotent: fail2 -> ${ok.status} after ${seen.get("fail2:a")} calls; fail5 -> ${bad.status} ${bad.reason} after ${seen.get("fail5:b")} calls`);
    expect(ok.status).toBe(200);
    expect(seen.get("fail2:a")).toBe(3);
    expect(bad.status).toBe(503);
    expect(bad.reason).toBe("upstream_status");
    expect(seen.get("fail5:b")).toBe(3);
  });

  test("non-idempotent: a sent call that fails is never retried", async () => {
    const gw = await gateway([`127.0.0.1:${server.port}`]);
    const r = await call(`${gw.url}/market.v1.MarketService/PlaceOrder`, order("fail1:o1"));
    console.log(`retry/non-idempotent: fail1 -> ${r.status} ${r.reason} after ${seen.get("fail1:o1")} call(s)`);
    expect(r.status).toBe(503);
    expect(seen.get("fail1:o1")).toBe(1);
  });

  test("non-idempotent: a call that never left (connection refused) is retried on another endpoint", async () => {
    const gw = await gateway([`127.0.0.1:${deadPort}`, `127.0.0.1:${server.port}`], { outlier: false });
    const attempts = countAttemptErrors(gw, "flaky");
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await call(`${gw.url}/market.v1.MarketService/PlaceOrder`, order(`ns${i}`)));
    console.log(`retry/never sent: ${results.filter((r) => r.status === 200).length}/10 placed; refused attempts retried ${attempts.upstream_connect_failed ?? 0}; server calls per order ${[...Array(10).keys()].map((i) => seen.get(`ns${i}`)).join(",")}`);
    for (const r of results) expect(r.status).toBe(200);
    expect(attempts.upstream_connect_failed ?? 0).toBeGreaterThanOrEqual(3); // round robin sends ~half to the dead port first
    for (let i = 0; i < 10; i++) expect(seen.get(`ns${i}`)).toBe(1); // each order reached the server exactly once
  });

  test("everything fails: the retry budget caps retries", async () => {
    const M = 20;
    const gw = await gateway([`127.0.0.1:${server.port}`], { retryBudget: { maxTokens: 10, tokenRatio: 0.1 } });
    const before = [...seen.entries()].filter(([k]) => k.startsWith("fail*:")).reduce((a, [, v]) => a + v, 0);
    for (let i = 0; i < M; i++) expect((await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: `fail*:${i}` })).status).toBe(503);
    const calls = [...seen.entries()].filter(([k]) => k.startsWith("fail*:")).reduce((a, [, v]) => a + v, 0) - before;
    const budget = (await adminUpstream(gw, "flaky")).retryBudget;
    console.log(`retry/budget: ${M} always-failing calls with maxAttempts 3 -> ${calls} upstream calls (unbudgeted: ${M * 3}); budget ${JSON.stringify(budget)}`);
    // A6: retries only while tokens > maxTokens/2, each failure costs one: at most ~maxTokens/2 retries in all.
    expect(calls).toBeLessThanOrEqual(M + 10 / 2 + 1);
    expect(calls).toBeGreaterThan(M); // some retries did happen before the budget ran dry
    expect(budget.throttled).toBeGreaterThanOrEqual(M - 3);
  });
});
