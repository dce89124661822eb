// Issue 3: TTHeader pool mode keeps idle connections like Kitex's long pool: at most maxIdle per endpoint
// (maxIdlePerAddress) AND at most maxIdleGlobal over all endpoints of the upstream. Three backends hold
// 8 calls each (24 connections, one call per connection); once all are released, the idle connections
// kept are capped by maxIdleGlobal, not only by the per-endpoint maxIdle.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor } from "../helpers/fault-load.ts";
import { startGatedBackend, type GatedBackend } from "../helpers/gated-backend.ts";

const backends: GatedBackend[] = [];
const gateways: Gateway[] = [];
beforeAll(async () => {
  for (let i = 0; i < 3; i++) backends.push(await startGatedBackend());
});
afterAll(async () => {
  for (const b of backends) b.open();
  for (const g of gateways) await g.stop();
  for (const b of backends) await b.stop();
});

async function run(maxIdleGlobal: number | undefined): Promise<{ idle: number[]; ready: number; after: number }> {
  for (const b of backends) b.close();
  const gw = await startFaultGateway({
    upstream: {
      name: "demo",
      protocol: "ttheader",
      mode: "pool",
      endpoints: backends.map((b) => `127.0.0.1:${b.ttheaderPort}`),
      breaker: false,
      pool: { maxIdle: 10, idleTimeout: 0, ...(maxIdleGlobal === undefined ? {} : { maxIdleGlobal }) },
    },
  });
  gateways.push(gw);
  const url = `${gw.url}/demo.v1.EchoService/Echo`;
  const base = backends.map((b) => b.entered);
  const calls = Array.from({ length: 24 }, (_, i) => call(url, { text: `i${i}` }, {}, 20_000));
  // Round-robin spreads the 24 held calls 8/8/8: 24 connections open at once.
  expect(await waitFor(() => backends.every((b, i) => b.entered - base[i]! === 8 && b.held === 8), 10_000)).toBe(true);
  for (const b of backends) b.open();
  expect((await Promise.all(calls)).every((r) => r.status === 200)).toBe(true);
  const pools = (await adminUpstream(gw, "demo")).endpoints;
  const idle = pools.map((p) => p.connections.idle);
  const ready = pools.reduce((n, p) => n + p.connections.ready, 0);
  // The kept connections still serve.
  const again = await Promise.all(Array.from({ length: 6 }, (_, i) => call(url, { text: `again${i}` })));
  return { idle, ready, after: again.filter((r) => r.status === 200).length };
}

describe("TTHeader pool mode: idle connections across three endpoints", () => {
  test("default maxIdleGlobal (100): all 24 released connections stay idle (8 per endpoint <= maxIdle 10)", async () => {
    const { idle, ready, after } = await run(undefined);
    console.log(`idle global/default: idle per endpoint ${idle.join("/")}`);
    expect(idle).toEqual([8, 8, 8]);
    expect(ready).toBe(24);
    expect(after).toBe(6);
  }, 30_000);

  test("maxIdleGlobal 4: only 4 idle connections are kept over all endpoints; the rest close", async () => {
    const { idle, ready, after } = await run(4);
    console.log(`idle global/4: idle per endpoint ${idle.join("/")}`);
    expect(idle.reduce((a, b) => a + b, 0)).toBe(4);
    expect(ready).toBe(4);
    expect(after).toBe(6);
  }, 30_000);
});
