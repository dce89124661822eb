// Pools of addresses that DNS no longer returns drain and are then forgotten as soon as their last
// connection closes, without anyone asking for stats (which used to be the only place they were pruned).
import { afterAll, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { LookupAddress } from "../../src/discovery/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor } from "../helpers/fault-load.ts";

let gw: Gateway | undefined;
const backends: DemoBackend[] = [];
afterAll(async () => {
  await gw?.stop();
  for (const b of backends) b.kill();
});

test("DNS answers changing 6 times: drained pools don't pile up (no stats() calls)", async () => {
  const one = await startBackend({ host: "127.0.0.1" });
  const port = one.grpcPort;
  backends.push(one, await startBackend({ host: "127.0.0.2", port }), await startBackend({ host: "127.0.0.3", port }));
  let answer = ["127.0.0.1"];
  const lookup = async (): Promise<LookupAddress[]> => answer.map((address) => ({ address, family: 4 as const }));
  gw = await startFaultGateway({
    upstream: { name: "demo", dns: { host: "backends.test", port, refreshInterval: "100ms", minRefreshInterval: "50ms" }, pool: { minConnections: 1 } },
    lookup,
  });
  const group = gw.groups.get("demo")!;
  const url = `${gw.url}/demo.v1.EchoService/Echo`;
  const rounds = [["127.0.0.2"], ["127.0.0.3"], ["127.0.0.1", "127.0.0.2"], ["127.0.0.3"], ["127.0.0.1"], ["127.0.0.2"]];
  let peak = 0;
  for (const [i, next] of rounds.entries()) {
    // A call on the current set, so its pools have connections that must drain.
    expect((await call(url, { text: `r${i}` })).status).toBe(200);
    answer = next;
    const want = next.map((a) => `${a}:${port}`).sort();
    expect(await waitFor(() => JSON.stringify(group.endpoints.sort()) === JSON.stringify(want), 3_000)).toBe(true);
    peak = Math.max(peak, group.drainingPools);
  }
  // Every removed pool is forgotten once its connections have closed.
  expect(await waitFor(() => group.drainingPools === 0, 3_000)).toBe(true);
  // A pool whose call is still running when its address goes is kept (and shown) until that call ends.
  const slow = call(url, { text: "slow", delayMs: 600 });
  await waitFor(() => group.stats().endpoints.some((p) => p.inFlight > 0), 2_000, 5);
  answer = ["127.0.0.3"];
  expect(await waitFor(() => group.endpoints.join() === `127.0.0.3:${port}`, 3_000)).toBe(true);
  expect(group.drainingPools).toBe(1);
  expect((await slow).status).toBe(200);
  expect(await waitFor(() => group.drainingPools === 0, 3_000)).toBe(true);
  console.log(`dns drained pools: peak ${peak} draining at once over ${rounds.length} changes, 0 at the end`);
  expect(peak).toBeLessThan(rounds.length);
}, 20_000);
