// Issue 4: scale-out from one to three TTHeader backends behind one address (an L4 balancer / virtual IP,
// here a relay sending each new TCP connection to the next backend), the Kitex counterpart of
// scale-out.test.ts, with backends as real processes. Mux connections are long-lived and multiplexed, so the
// new backends get nothing until the pool retires connections for age (open-before-retire: the
// replacement, dialled through the relay, lands on a new backend); pool-mode connections are reused LIFO
// and pinned the same way until aged out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { PROTOCOLS, startFaultGateway, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { killAllBackends, spawnBackend, type BackendProcess } from "../helpers/fault-process.ts";
import { startRelay } from "../helpers/fault-relay.ts";

const MAX_AGE_MS = 1_000;
let backends: BackendProcess[] = [];

beforeAll(async () => {
  backends = await Promise.all([spawnBackend(), spawnBackend(), spawnBackend()]);
}, 20_000);
afterAll(async () => {
  await Promise.all(backends.map((b) => b.kill()));
  killAllBackends();
});

async function completed(): Promise<number[]> {
  return Promise.all(backends.map(async (b) => (await b.stats()).echoCompleted));
}

async function run(upstream: Partial<UpstreamInput>, watchMs: number) {
  const target = (b: BackendProcess) => ({ host: "127.0.0.1", port: b.ttheaderPort });
  const relay = await startRelay({ targets: [target(backends[0]!)] });
  // Three mux connections (warmed up before traffic), so one round of replacements can reach all three backends.
  const gw: Gateway = await startFaultGateway({ upstream: { name: "demo", endpoints: [relay.address], muxConnections: 3, ...upstream } });
  try {
    const base = await completed();
    const served = async () => (await completed()).map((n, i) => n - base[i]!);
    const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `r${i}`, delayMs: 5 }), concurrency: 12 });
    await sleepMs(200);
    const scaledAt = Date.now();
    relay.setTargets(backends.map(target));
    const reached = await waitFor(async () => {
      const s = await served();
      return s[1]! > 0 && s[2]! > 0;
    }, watchMs, 50);
    const reachedMs = Date.now() - scaledAt;
    // Then let them serve a share (polled, bounded: a loaded machine serves fewer calls per fixed sleep).
    if (reached) {
      await waitFor(async () => {
        const s = await served();
        return s[1]! > 20 && s[2]! > 20;
      }, 5_000, 50);
    } else await sleepMs(300);
    const r = await load.stop();
    return { r, reached, reachedMs, served: await served(), perTarget: relay.stats.perTarget };
  } finally {
    await gw.stop();
    await relay.close();
  }
}

describe("scale-out 1 -> 3 TTHeader backend processes behind one L4 address", () => {
  for (const mode of ["ttheader-mux", "ttheader-pool"] as const) {
    // Pool mode: maxIdle above the load's concurrency, so connections are not churned by the idle cap (which
    // would reach the new backends without any age limit).
    const upstream = { ...PROTOCOLS[mode], ...(mode === "ttheader-pool" ? { pool: { maxIdle: 64 } } : {}) };

    test(`${mode}: with maxAge ${MAX_AGE_MS} ms the new backends take traffic within one connection age, zero failures`, async () => {
      const { r, reached, reachedMs, served, perTarget } = await run({ ...upstream, maxAge: MAX_AGE_MS }, MAX_AGE_MS * 3);
      console.log(`scale-out/${mode}/maxAge: new backends reached ${reachedMs} ms after scale-out; served ${served.join("/")}; relay connections ${JSON.stringify(perTarget)}; ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}`);
      expect(reached).toBe(true);
      // Connections were opened before the scale-out, so each is retired within maxAge (+10 % jitter) of it;
      // the rest is slack for a loaded machine (stats are polled from the backend processes).
      expect(reachedMs).toBeLessThanOrEqual(MAX_AGE_MS * 1.1 + 700);
      expect(r.failures).toEqual({});
      expect(r.failed).toBe(0);
      expect(served[1]).toBeGreaterThan(20);
      expect(served[2]).toBeGreaterThan(20);
    }, 20_000);

    test(`${mode} without maxAge: the same connections stay on the first backend`, async () => {
      const { r, reached, served } = await run({ ...upstream, maxAge: 0 }, MAX_AGE_MS * 2);
      console.log(`scale-out/${mode}/no maxAge: served ${served.join("/")} over ${MAX_AGE_MS * 2} ms after scale-out; ${r.ok} ok, ${r.failed} failed`);
      expect(reached).toBe(false);
      expect(served[1]! + served[2]!).toBe(0);
      expect(r.failed).toBe(0);
      expect(served[0]).toBeGreaterThan(0);
    }, 20_000);
  }
});
