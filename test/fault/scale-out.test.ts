// Issue 4: scale-out from one to three backends behind one address (an L4 load balancer / virtual IP,
// here a relay that sends each new TCP connection to the next backend). Long-lived multiplexed
// connections never see the new backends until they are recycled: with maxAge the new backends take
// traffic within one connection age, without dropping a call; without it they get nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startBackend, startFaultGateway, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { startRelay } from "../helpers/fault-relay.ts";

const MAX_AGE_MS = 1_000;
const backends: DemoBackend[] = [];
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  for (let i = 0; i < 3; i++) backends.push(await startBackend());
});
afterAll(async () => {
  for (const c of cleanup) await c();
  for (const b of backends) b.kill();
});

async function run(upstream: Partial<UpstreamInput>, watchMs: number) {
  const [b1, b2, b3] = backends as [DemoBackend, DemoBackend, DemoBackend];
  const target = (b: DemoBackend) => ({ host: "127.0.0.1", port: b.grpcPort });
  const relay = await startRelay({ targets: [target(b1)] });
  const gw: Gateway = await startFaultGateway({ upstream: { name: "demo", endpoints: [relay.address], pool: { minConnections: 3 }, ...upstream } });
  cleanup.push(async () => {
    await gw.stop();
    await relay.close();
  });
  const base = backends.map((b) => b.stats.echoCompleted);
  const served = () => backends.map((b, i) => b.stats.echoCompleted - base[i]!);
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `r${i}`, delayMs: 5 }), concurrency: 12 });
  await sleepMs(200);
  const scaledAt = Date.now();
  relay.setTargets([target(b1), target(b2), target(b3)]);
  const reached = await waitFor(() => served()[1]! > 0 && served()[2]! > 0, watchMs);
  const reachedMs = Date.now() - scaledAt;
  // Then let them serve a share (polled, bounded: a loaded machine serves fewer calls per fixed sleep).
  if (reached) await waitFor(() => served()[1]! > 20 && served()[2]! > 20, 5_000);
  else await sleepMs(200);
  const r = await load.stop();
  return { r, reached, reachedMs, served: served(), relay };
}

describe("scale-out 1 -> 3 backends behind one L4 address", () => {
  test(`with maxAge ${MAX_AGE_MS} ms the new backends take traffic within one connection age, zero failures`, async () => {
    const { r, reached, reachedMs, served, relay } = await run({ maxAge: MAX_AGE_MS }, MAX_AGE_MS * 2);
    console.log(`scale-out/maxAge: new backends reached ${reachedMs} ms after scale-out; served ${served.join("/")}; relay connections ${JSON.stringify(relay.stats.perTarget)}; ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}`);
    expect(reached).toBe(true);
    // Connections were opened before the scale-out, so each is recycled within maxAge (+10% jitter) of it.
    expect(reachedMs).toBeLessThanOrEqual(MAX_AGE_MS * 1.1 + 500);
    expect(r.failed).toBe(0);
    expect(served[1]).toBeGreaterThan(20);
    expect(served[2]).toBeGreaterThan(20);
  }, 15_000);

  test("without maxAge the same connections stay on the first backend", async () => {
    const { r, reached, served } = await run({ maxAge: 0 }, MAX_AGE_MS * 2);
    console.log(`scale-out/no maxAge: served ${served.join("/")} over ${MAX_AGE_MS * 2} ms after scale-out; ${r.ok} ok, ${r.failed} failed`);
    expect(reached).toBe(false);
    expect(served[1]! + served[2]!).toBe(0);
    expect(r.failed).toBe(0);
  }, 15_000);
});
