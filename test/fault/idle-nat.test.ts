// Issue 4: idle connections silently dropped by a NAT (a relay that forgets a flow after 400 ms without a
// byte and then discards everything, closing nothing). Which mechanism saves the next call after idling?
//  - nothing (idle connection kept, no keepalive): the call vanishes and times out (the hazard is real);
//  - pool idle timeout (200 ms) < NAT timeout: the idle connection is closed first, the call opens a new one;
//  - keepalive PINGs more often than the NAT timeout: the flow never looks idle, the same connection works;
//  - keepalive PINGs less often than the NAT timeout: the dead flow is detected (ping unanswered), the
//    connection replaced; calls after detection work (a call between drop and detection would not, and
//    the replacement idles out again: PING interval must stay below the NAT timeout).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, startBackend, startFaultGateway, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { call, sleepMs, waitFor } from "../helpers/fault-load.ts";
import { startRelay, type Relay } from "../helpers/fault-relay.ts";

const NAT_IDLE_MS = 400;
let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

async function scenario(upstream: Partial<UpstreamInput>): Promise<{ gw: Gateway; relay: Relay; echo: () => ReturnType<typeof call> }> {
  const relay = await startRelay({ targets: [{ host: "127.0.0.1", port: backend.grpcPort }], idleDropMs: NAT_IDLE_MS });
  const gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [relay.address], ...upstream }, defaults: { timeout: "600ms" } });
  cleanup.push(async () => {
    await gw.stop();
    await relay.close();
  });
  return { gw, relay, echo: () => call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "after idle" }) };
}

const opened = async (gw: Gateway) => (await adminUpstream(gw, "demo")).endpoints[0]!.opened;

describe("idle connection behind a NAT that forgets flows after 400 ms", () => {
  test("control: an idle connection kept open without keepalive loses the call", async () => {
    const { gw, relay, echo } = await scenario({ pool: { minConnections: 1, idleTimeout: 0 } });
    expect((await echo()).status).toBe(200);
    await sleepMs(NAT_IDLE_MS * 2);
    const r = await echo();
    console.log(`idle/no protection: call after idling -> ${r.status} ${r.reason} in ${Math.round(r.ms)} ms; NAT dropped ${relay.stats.dropped} flow(s), connections opened ${await opened(gw)}`);
    expect(relay.stats.dropped).toBe(1);
    expect(r.status).toBe(504);
    expect(r.reason).toBe("upstream_deadline_exceeded");
  }, 10_000);

  test("pool idle timeout below the NAT timeout: the idle connection is closed first, the call works", async () => {
    const { gw, relay, echo } = await scenario({ pool: { minConnections: 0, idleTimeout: "200ms" } });
    expect((await echo()).status).toBe(200);
    await sleepMs(NAT_IDLE_MS * 2);
    const r = await echo();
    console.log(`idle/idle timeout: call after idling -> ${r.status} in ${Math.round(r.ms)} ms; NAT dropped ${relay.stats.dropped}, relay flows accepted ${relay.stats.accepted}, connections opened ${await opened(gw)}`);
    expect(r.status).toBe(200);
    expect(await opened(gw)).toBe(2); // the mechanism: a fresh connection, not the old one
    expect(relay.stats.dropped).toBe(0); // closed by us before the NAT forgot it
  }, 10_000);

  test("keepalive PING every 150 ms keeps the NAT entry alive: same connection, call works", async () => {
    const { gw, relay, echo } = await scenario({
      pool: { minConnections: 1, idleTimeout: 0 },
      keepalive: { interval: "150ms", timeout: "300ms", onlyWithCalls: false },
    });
    expect((await echo()).status).toBe(200);
    await sleepMs(NAT_IDLE_MS * 3);
    const r = await echo();
    console.log(`idle/keepalive 150ms: call after idling -> ${r.status} in ${Math.round(r.ms)} ms; NAT dropped ${relay.stats.dropped}, connections opened ${await opened(gw)}`);
    expect(r.status).toBe(200);
    expect(relay.stats.dropped).toBe(0);
    expect(await opened(gw)).toBe(1);
  }, 10_000);

  test("keepalive PING every 600 ms (> NAT timeout): the dead flow is detected and replaced", async () => {
    const { gw, relay, echo } = await scenario({
      pool: { minConnections: 1, idleTimeout: 0 },
      keepalive: { interval: "600ms", timeout: "200ms", onlyWithCalls: false },
    });
    expect((await echo()).status).toBe(200);
    // NAT drop at ~400 ms, unanswered ping at ~600 ms, destroyed at ~800 ms, replacement opened at once
    // (minConnections 1). The replacement idles out in turn 400 ms later, so call right after detection.
    const t0 = Date.now();
    expect(await waitFor(async () => (await opened(gw)) >= 2, 2_000, 10)).toBe(true);
    const detectedMs = Date.now() - t0;
    const r = await echo();
    console.log(`idle/keepalive 600ms: dead flow replaced ${detectedMs} ms into the idle period; call after detection -> ${r.status} in ${Math.round(r.ms)} ms; NAT dropped ${relay.stats.dropped}, connections opened ${await opened(gw)}`);
    expect(relay.stats.dropped).toBeGreaterThanOrEqual(1);
    expect(await opened(gw)).toBeGreaterThanOrEqual(2);
    expect(r.status).toBe(200);
  }, 10_000);
});
