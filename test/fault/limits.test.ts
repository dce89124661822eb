// Issue 5: limits. A route bulkhead (maxConcurrent + queue) keeps the backend at its concurrency cap and
// answers 503 overloaded beyond the queue; a rate limit per client key answers 429 with Retry-After while
// other clients go through.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { sleep } from "../../src/core/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway, type RouteInput } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let server: GrpcServer;
let running = 0;
let peak = 0;
let handled = 0;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const rt = await runtime();
  server = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string; delayMs: number }, ctx: HandlerContext) => {
          handled++;
          peak = Math.max(peak, ++running);
          try {
            await sleep(req.delayMs, ctx.signal);
          } finally {
            running--;
          }
          return { text: req.text };
        },
      },
    },
  });
});
afterAll(async () => {
  for (const c of cleanup) await c();
  server.destroy();
});

async function gateway(route: RouteInput): Promise<Gateway> {
  const gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${server.port}`] }, routes: [route] });
  cleanup.push(() => gw.stop());
  return gw;
}

describe("route limits", () => {
  test("bulkhead maxConcurrent 2 + queue 2: 10 concurrent slow calls -> 4 served (never more than 2 at once), 6 x 503 overloaded", async () => {
    const gw = await gateway({ method: "demo.v1.EchoService/Echo", maxConcurrent: 2, queueSize: 2, queueTimeout: "5s" });
    peak = 0;
    handled = 0;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${gw.url}/demo.v1.EchoService/Echo`, { text: `b${i}`, delayMs: 200 })));
    const ok = results.filter((r) => r.status === 200);
    const over = results.filter((r) => r.status === 503);
    console.log(`limits/bulkhead: ${ok.length} served, ${over.length} x 503 ${over[0]?.reason}; backend peak concurrency ${peak}, handled ${handled}`);
    expect(ok).toHaveLength(4);
    expect(over).toHaveLength(6);
    for (const r of over) {
      expect(r.reason).toBe("overloaded");
      expect((r.body as { upstream?: string }).upstream).toBe("demo");
    }
    expect(peak).toBe(2);
    expect(handled).toBe(4);
  }, 10_000);

  test("bulkhead queue timeout: a queued call that waits too long is refused, not left hanging", async () => {
    const gw = await gateway({ method: "demo.v1.EchoService/Echo", maxConcurrent: 1, queueSize: 5, queueTimeout: "100ms" });
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => call(`${gw.url}/demo.v1.EchoService/Echo`, { text: `q${i}`, delayMs: 400 })));
    const statuses = results.map((r) => r.status).sort();
    console.log(`limits/queue timeout: ${JSON.stringify(results.map((r) => [r.status, r.reason, Math.round(r.ms)]))}`);
    expect(statuses).toEqual([200, 503, 503]);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.reason).toBe("overloaded");
      expect(r.ms).toBeLessThan(400); // refused after the queue timeout, before the slot would have freed
    }
  }, 10_000);

  test("rate limit per client key: the 4th call in a burst of client A gets 429 + Retry-After; client B still passes", async () => {
    const gw = await gateway({ method: "demo.v1.EchoService/Echo", rateLimit: { ratePerSec: 1, burst: 3, key: "header:x-api-key" } });
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    handled = 0;
    const a = [];
    for (let i = 0; i < 5; i++) a.push(await call(url, { text: `a${i}` }, { "x-api-key": "client-a" }));
    const b = await call(url, { text: "b" }, { "x-api-key": "client-b" });
    const res = await fetch(url, { method: "POST", body: "{}", headers: { "content-type": "application/json", "x-api-key": "client-a" } });
    const retryAfter = res.headers.get("retry-after");
    const body = (await res.json()) as { reason: string };
    console.log(`limits/rate: client A ${a.map((r) => r.status).join(",")}; client B ${b.status}; 429 Retry-After: ${retryAfter}; backend handled ${handled}`);
    expect(a.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(a[3]!.reason).toBe("rate_limited");
    expect(b.status).toBe(200);
    expect(res.status).toBe(429);
    expect(body.reason).toBe("rate_limited");
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(handled).toBe(4); // refused calls never reached the backend
  }, 10_000);

  test("rate limit keyed on upstream metadata (where forwarded JWT claims land): per key, not per IP", async () => {
    const gw = await gateway({ method: "demo.v1.EchoService/Echo", rateLimit: { ratePerSec: 1, burst: 2, key: "metadata:x-request-id" } });
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await call(url, { text: `a${i}` }, { "x-request-id": "tenant-a" }));
    const b = await call(url, { text: "b" }, { "x-request-id": "tenant-b" });
    expect(a.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(b.status).toBe(200);
  }, 10_000);
});
