// Issue 3, connection use per mode, observed in /admin/upstreams (per-connection call counts):
//  - pool mode: idle connections are reused LIFO: sequential calls keep taking the most recently used
//    connection, so the others can age out (Kitex's long pool);
//  - mux mode: muxConnections connections per endpoint, calls in flight spread across them.
// The backend holds calls until the test opens its gate, so the number of calls in flight is exact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor } from "../helpers/fault-load.ts";
import { startGatedBackend, type GatedBackend } from "../helpers/gated-backend.ts";

let backend: GatedBackend;
const gateways: Gateway[] = [];
beforeAll(async () => {
  backend = await startGatedBackend();
});
afterAll(async () => {
  backend.open();
  for (const g of gateways) await g.stop();
  await backend.stop();
});

async function gateway(mode: "mux" | "pool", extra: Record<string, unknown>): Promise<Gateway> {
  const gw = await startFaultGateway({
    upstream: { name: "demo", protocol: "ttheader", mode, endpoints: [`127.0.0.1:${backend.ttheaderPort}`], breaker: false, ...extra },
  });
  gateways.push(gw);
  return gw;
}

const details = async (gw: Gateway) => (await adminUpstream(gw, "demo")).endpoints[0]!.details;

describe("TTHeader connection use", () => {
  test("pool mode: three idle connections; ten sequential calls all reuse the most recently used one", async () => {
    backend.close();
    const gw = await gateway("pool", { pool: { idleTimeout: 0 } });
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    const held = [1, 2, 3].map((i) => call(url, { text: `h${i}` }, {}, 20_000));
    expect(await waitFor(() => backend.held === 3, 10_000)).toBe(true);
    backend.open();
    expect((await Promise.all(held)).every((r) => r.status === 200)).toBe(true);
    const before = new Map((await details(gw)).map((d) => [d.id, d.callsTotal]));
    expect(before.size).toBe(3);
    for (let i = 0; i < 10; i++) expect((await call(url, { text: `seq${i}` })).status).toBe(200);
    const after = await details(gw);
    const added = after.map((d) => d.callsTotal - (before.get(d.id) ?? 0)).sort((a, b) => b - a);
    expect(after).toHaveLength(3); // nothing new dialled, nothing closed
    expect(added).toEqual([10, 0, 0]);
  }, 30_000);

  test("mux mode, muxConnections 3: six calls in flight are spread two per connection", async () => {
    backend.close();
    const gw = await gateway("mux", { muxConnections: 3 });
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    const held = Array.from({ length: 6 }, (_, i) => call(url, { text: `m${i}` }, {}, 20_000));
    expect(await waitFor(() => backend.held === 6, 10_000)).toBe(true);
    const d = await details(gw);
    backend.open();
    expect(d.map((x) => x.active)).toEqual([2, 2, 2]);
    expect((await Promise.all(held)).every((r) => r.status === 200)).toBe(true);
  }, 30_000);
});
