// Issue 7's metric list, the families test/e2e/observability.test.ts does not drive end to end: each
// scenario runs real calls through a gateway on loopback and reads /metrics (parsed strictly) for exact
// values: hedges, breaker state (closed from the start, open after tripping), business errors apart from
// system codes (TTHeader biz-status), calls cancelled because their client left, connect failures,
// and per-endpoint in-flight and queued gauges while calls wait for a connection.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startBackend, startFaultGateway, type RouteInput, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { call, sleepMs, waitFor } from "../helpers/fault-load.ts";
import { scrape, type Exposition } from "../helpers/prometheus.ts";

let a: DemoBackend;
let b: DemoBackend;
let deadPort: number;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  [a, b] = await Promise.all([startBackend(), startBackend()]);
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  deadPort = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
});
afterAll(async () => {
  for (const c of cleanup) await c();
  a.kill();
  b.kill();
});

async function gateway(upstream: UpstreamInput, routes: RouteInput[] = []): Promise<Gateway> {
  const gw = await startFaultGateway({ upstream, routes });
  cleanup.push(() => gw.stop({ timeoutMs: 2000 }));
  return gw;
}
const ECHO = "demo.v1.EchoService/Echo";
const echo = (gw: Gateway, body: Record<string, unknown>) => call(`${gw.url}/${ECHO}`, body);

describe("resilience and upstream metrics move with real calls", () => {
  test("sluice_upstream_hedges_total: one hedge per call slower than the hedge delay", async () => {
    const gw = await gateway(
      { name: "hedged", endpoints: [`127.0.0.1:${a.grpcPort}`, `127.0.0.1:${b.grpcPort}`], breaker: false, outlier: false },
      [{ method: ECHO, idempotent: true, hedge: { delay: "50ms", maxHedges: 1 } }],
    );
    const before = await scrape(gw.url);
    expect(before.value("sluice_upstream_hedges_total", { upstream: "hedged", method: ECHO })).toBeUndefined();
    for (let i = 0; i < 4; i++) expect((await echo(gw, { text: `h${i}`, delayMs: 300 })).status).toBe(200);
    const m = await scrape(gw.url);
    console.log(`metrics/hedges: ${m.value("sluice_upstream_hedges_total", { upstream: "hedged", method: ECHO })} after 4 slow calls`);
    expect(m.value("sluice_upstream_hedges_total", { upstream: "hedged", method: ECHO })).toBe(4);
  }, 15_000);

  test("sluice_circuit_breaker_state: closed from the start, open once tripped", async () => {
    const gw = await gateway({ name: "fragile", endpoints: [`127.0.0.1:${a.grpcPort}`], breaker: { threshold: 0.5, minSamples: 5, window: "10s", cooldown: "60s" } });
    const state = (m: Exposition) => Object.fromEntries(["closed", "open", "half_open"].map((s) => [s, m.value("sluice_circuit_breaker_state", { breaker: "fragile", state: s })]));
    expect(state(await scrape(gw.url))).toEqual({ closed: 1, open: 0, half_open: 0 });
    for (let i = 0; i < 5; i++) expect((await echo(gw, { text: "fail:unavailable" })).status).toBe(503);
    const refused = await echo(gw, { text: "x" });
    expect(refused.reason).toBe("circuit_open");
    const m = await scrape(gw.url);
    expect(state(m)).toEqual({ closed: 0, open: 1, half_open: 0 });
    expect(m.value("sluice_upstream_calls_total", { upstream: "fragile", method: ECHO, code: "UNAVAILABLE" })).toBe(6);
  });

  test("business errors (TTHeader biz-status) count as system OK plus a business error by status", async () => {
    const gw = await gateway({ name: "tt", protocol: "ttheader", mode: "mux", endpoints: [`127.0.0.1:${a.ttheaderPort}`] });
    const biz = await echo(gw, { text: "biz" });
    expect(biz.status).toBe(422);
    expect((await echo(gw, { text: "fail:internal" })).status).toBe(500);
    expect((await echo(gw, { text: "ok" })).status).toBe(200);
    const m = await scrape(gw.url);
    expect(m.value("sluice_upstream_business_errors_total", { upstream: "tt", method: ECHO, biz_status: "1001" })).toBe(1);
    expect(m.value("sluice_upstream_calls_total", { upstream: "tt", method: ECHO, code: "OK" })).toBe(2);
    expect(m.value("sluice_upstream_calls_total", { upstream: "tt", method: ECHO, code: "INTERNAL" })).toBe(1);
    expect(m.value("sluice_http_requests_total", { route: ECHO, method: "POST", status: "422" })).toBe(1);
  });

  test("sluice_calls_cancelled_by_client_total and sluice_http_client_gone_total (onClientDisconnect: cancel)", async () => {
    const gw = await gateway({ name: "c", endpoints: [`127.0.0.1:${a.grpcPort}`] }, [{ method: ECHO, onClientDisconnect: "cancel" }]);
    const before = a.stats.echoCancelled;
    await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        fetch(`${gw.url}/${ECHO}`, { method: "POST", body: JSON.stringify({ text: `gone${i}`, delayMs: 2_000 }), signal: AbortSignal.timeout(150) }).then(
          (r) => r.text(),
          () => "aborted",
        ),
      ),
    );
    await waitFor(() => a.stats.echoCancelled - before >= 3, 5_000);
    const m = await waitFor(async () => {
      const x = await scrape(gw.url);
      return x.value("sluice_calls_cancelled_by_client_total") === 3 && x.value("sluice_http_client_gone_total", { route: ECHO }) === 3 ? x : undefined;
    }, 5_000, 50);
    expect(m).toBeDefined();
    expect(m!.value("sluice_calls_finished_after_client_left_total", { upstream: "c", method: ECHO, outcome: "ok" })).toBeUndefined();
  });

  test("connect failures are counted per endpoint", async () => {
    const dead = `127.0.0.1:${deadPort}`;
    const gw = await gateway({ name: "dead", endpoints: [dead], breaker: false, outlier: false });
    for (let i = 0; i < 2; i++) expect((await echo(gw, { text: "x" })).reason).toBe("upstream_connect_failed");
    const m = await scrape(gw.url);
    expect(m.value("sluice_upstream_connect_failures_total", { upstream: "dead", endpoint: dead })).toBeGreaterThanOrEqual(2);
    // "opened" counts successful dials only (failed ones are the connect_failures above).
    expect(m.value("sluice_upstream_connections_opened_total", { upstream: "dead", endpoint: dead })).toBe(0);
    expect(m.value("sluice_upstream_connections", { upstream: "dead", endpoint: dead, state: "ready" })).toBe(0);
    expect(m.value("sluice_upstream_attempts_total", { upstream: "dead", endpoint: dead, code: "UNAVAILABLE" })).toBeGreaterThanOrEqual(2);
  });

  test("sluice_upstream_in_flight and sluice_upstream_queued while a call waits for the only connection", async () => {
    const endpoint = `127.0.0.1:${a.grpcPort}`;
    const gw = await gateway({ name: "narrow", endpoints: [endpoint], pool: { maxConnections: 1, maxConcurrentPerConnection: 1, queueSize: 10, queueTimeout: "5s" } });
    const calls = [echo(gw, { text: "first", delayMs: 800 }), sleepMs(50).then(() => echo(gw, { text: "second", delayMs: 10 }))];
    const during = await waitFor(async () => {
      const x = await scrape(gw.url);
      return x.value("sluice_upstream_queued", { upstream: "narrow", endpoint }) === 1 ? x : undefined;
    }, 3_000, 20);
    expect(during).toBeDefined();
    expect(during!.value("sluice_upstream_in_flight", { upstream: "narrow", endpoint })).toBe(1);
    expect(during!.value("sluice_upstream_connections", { upstream: "narrow", endpoint, state: "ready" })).toBe(1);
    for (const r of await Promise.all(calls)) expect(r.status).toBe(200);
    const after = await scrape(gw.url);
    expect(after.value("sluice_upstream_queued", { upstream: "narrow", endpoint })).toBe(0);
    expect(after.value("sluice_upstream_in_flight", { upstream: "narrow", endpoint })).toBe(0);
  }, 10_000);
});
