// Two issue bullets without an end-to-end test elsewhere:
// - Issue 7: /readyz answers 503 while start-up warm-up is still opening upstream connections (the
//   listener is already up), /healthz 200 meanwhile; 200 once warm-up is done; sluice_ready follows.
// - Issue 5: the per-upstream bulkhead (upstreams[].maxConcurrent) caps calls across all routes of the
//   upstream: beyond it calls are refused at once with 503 overloaded naming the upstream, and the
//   backend never sees more than the cap.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { parseConfig } from "../../src/config/index.ts";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, sleepMs } from "../helpers/fault-load.ts";
import { startRelay, type Relay } from "../helpers/fault-relay.ts";
import { scrape } from "../helpers/prometheus.ts";
import { DESCRIPTORS, quietLogger } from "../helpers/stack.ts";

let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("readiness during start-up warm-up", () => {
  test("/readyz 503 while warm-up connections are being opened, /healthz 200; /readyz 200 once they are up", async () => {
    // Each connection reaches the backend only after 700 ms: warm-up (2 connections, one at a time) takes ~1.4 s.
    const relay: Relay = await startRelay({ targets: [{ host: "127.0.0.1", port: backend.grpcPort }], establishMs: 700 });
    const port = await freePort();
    let gw: Gateway | undefined;
    cleanup.push(async () => {
      await gw?.stop({ timeoutMs: 1000 });
      await relay.close();
    });
    const starting = startGateway({
      runtime: await runtime(),
      logger: quietLogger(),
      config: parseConfig({
        listen: { host: "127.0.0.1", port },
        descriptors: [DESCRIPTORS],
        upstreams: [{ name: "demo", endpoints: [relay.address], warmup: 2, connectTimeout: "5s" }],
        services: [{ match: "*", upstream: "demo" }],
      }),
    }).then((g) => (gw = g));
    const url = `http://127.0.0.1:${port}`;
    const during: { ready: number; health: number; metric: number | undefined }[] = [];
    while (gw === undefined) {
      // The metric first: readiness only goes from false to true during start-up, so a 503 read after it
      // means the metric was read while not ready too.
      const metric = await scrape(url).then((m) => m.value("sluice_ready"), () => undefined);
      const [ready, health] = await Promise.all([fetch(`${url}/readyz`).then((r) => r.status, () => 0), fetch(`${url}/healthz`).then((r) => r.status, () => 0)]);
      if (ready === 503 && metric !== undefined) during.push({ ready, health, metric });
      await sleepMs(50);
    }
    await starting;
    console.log(`readiness: ${during.length} probes saw 503 during warm-up; healthz then ${[...new Set(during.map((d) => d.health))].join(",")}`);
    expect(during.length).toBeGreaterThan(0);
    for (const d of during) expect(d).toEqual({ ready: 503, health: 200, metric: 0 });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await scrape(url)).value("sluice_ready")).toBe(1);
    expect(gw!.groups.get("demo")!.stats().endpoints[0]!.connections.ready).toBe(2);
  }, 20_000);
});

describe("per-upstream bulkhead", () => {
  test("upstreams[].maxConcurrent 3 over two routes: 8 concurrent slow calls -> 3 served, 5 refused at once", async () => {
    const gw = await startFaultGateway({ upstream: { name: "capped", endpoints: [`127.0.0.1:${backend.grpcPort}`], maxConcurrent: 3, breaker: false } });
    cleanup.push(() => gw.stop({ timeoutMs: 2000 }));
    const echo = (i: number) => call(`${gw.url}/demo.v1.EchoService/Echo`, { text: `e${i}`, delayMs: 600 });
    const order = (i: number) => call(`${gw.url}/market.v1.MarketService/PlaceOrder`, { client_order_id: `cap-${i}`, symbol: "X", side: "BUY", quantity: "1", price: "1" });
    const before = backend.stats.echoCompleted + backend.stats.ordersPlaced;
    const results = await Promise.all([...Array.from({ length: 4 }, (_, i) => echo(i)), ...Array.from({ length: 4 }, (_, i) => order(i))]);
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 503);
    console.log(`upstream bulkhead: ${ok.length} served, ${refused.length} refused (${refused.map((r) => `${r.reason} ${Math.round(r.ms)}ms`).join(", ")})`);
    expect(ok).toHaveLength(3);
    expect(refused).toHaveLength(5);
    for (const r of refused) {
      expect(r.reason).toBe("overloaded");
      expect((r.body as { upstream?: string }).upstream).toBe("capped");
      expect(r.ms).toBeLessThan(Math.min(...ok.map((x) => x.ms))); // refused without waiting for a slot
    }
    expect(backend.stats.echoCompleted + backend.stats.ordersPlaced - before).toBe(3);
  }, 15_000);
});
