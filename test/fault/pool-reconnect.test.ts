// Regression (issue 4): a pool keeping minConnections to an endpoint that refuses connections re-dialled
// it in a tight loop (about 5,000 connects a second on loopback) because every failed connect immediately
// "replenished" the minimum. Re-dials now back off (src/upstream/pool.ts RECONNECT_BACKOFF), and the pool
// still comes back by itself once the endpoint listens again.
import { afterAll, expect, test } from "bun:test";
import net from "node:net";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, sleepMs, waitFor } from "../helpers/fault-load.ts";

let gw: Gateway | undefined;
let backend: DemoBackend | undefined;
afterAll(async () => {
  await gw?.stop();
  backend?.kill();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("minConnections to a refusing endpoint: dials back off; the pool refills when it comes back", async () => {
  const port = await freePort();
  gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${port}`], pool: { minConnections: 2 }, breaker: false } });
  await sleepMs(1_000);
  const dead = (await adminUpstream(gw, "demo")).endpoints[0]!;
  console.log(`pool reconnect: ${dead.opened} dials in the first second to a refusing endpoint (${dead.connectFailures} failed)`);
  expect(dead.connectFailures).toBeGreaterThan(2); // it does keep trying...
  expect(dead.opened).toBeLessThan(40); // ...with back-off, not thousands of times

  backend = await startBackend({ port });
  const t0 = Date.now();
  const refilled = await waitFor(async () => (await adminUpstream(gw!, "demo")).endpoints[0]!.connections.ready === 2, 5_000, 20);
  console.log(`pool reconnect: both kept connections back ${Date.now() - t0} ms after the endpoint started listening`);
  expect(refilled).toBe(true);
  expect((await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "back" })).status).toBe(200);
}, 15_000);
