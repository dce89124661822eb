// Issue 4: a DNS answer that changes under load. Backends listen on 127.0.0.1, 127.0.0.2 and 127.0.0.3
// (same port); the gateway resolves a made-up name, first through an injected lookup whose answer the
// test changes, then through the runtime's real resolver pointed at a DNS server on loopback whose
// records carry a 1 s TTL. Zero failed requests; traffic moves to the new addresses; the old pool
// drains and goes away.
import { afterAll, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { LookupAddress, ResolverStats } from "../../src/discovery/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startFakeDnsServer, type FakeDnsServer } from "../../src/runtime/shared/fake-dns-server.ts";
import { adminUpstream, countAttemptErrors, runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";

let gw: Gateway | undefined;
let gwReal: Gateway | undefined;
let dnsServer: FakeDnsServer | undefined;
const backends: DemoBackend[] = [];
afterAll(async () => {
  await gw?.stop();
  await gwReal?.stop();
  await dnsServer?.close();
  for (const b of backends) b.kill();
});

test("DNS answer 127.0.0.1 -> 127.0.0.2 + 127.0.0.3 under load: zero failures, traffic moves", async () => {
  const one = await startBackend({ host: "127.0.0.1" });
  const port = one.grpcPort;
  const two = await startBackend({ host: "127.0.0.2", port });
  const three = await startBackend({ host: "127.0.0.3", port });
  backends.push(one, two, three);

  let answer = ["127.0.0.1"];
  let lookups = 0;
  const lookup = async (host: string): Promise<LookupAddress[]> => {
    expect(host).toBe("backends.test");
    lookups++;
    return answer.map((address) => ({ address, family: 4 as const }));
  };
  gw = await startFaultGateway({
    upstream: { name: "demo", dns: { host: "backends.test", port, refreshInterval: "200ms", minRefreshInterval: "100ms" } },
    lookup,
  });
  const attemptErrors = countAttemptErrors(gw, "demo");
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `r${i}`, delayMs: 10 }), concurrency: 8 });
  await sleepMs(400);
  expect(one.stats.echoCompleted).toBeGreaterThan(0);
  expect(two.stats.echoCompleted + three.stats.echoCompleted).toBe(0);

  const changedAt = Date.now();
  answer = ["127.0.0.2", "127.0.0.3"];
  // Within a refresh interval (plus scheduling slack) both new addresses take traffic.
  expect(await waitFor(() => two.stats.echoCompleted > 0 && three.stats.echoCompleted > 0, 2_000)).toBe(true);
  const movedMs = Date.now() - changedAt;
  // The old address drains: calls in flight finish, then it gets nothing new.
  await sleepMs(200);
  const oldCount = one.stats.echoCompleted;
  await sleepMs(500);
  expect(one.stats.echoCompleted).toBe(oldCount);
  // Nothing depends on the old backend any more: stopping it costs nothing.
  await one.stop();
  await sleepMs(300);
  const r = await load.stop();
  const view = await adminUpstream(gw, "demo");
  console.log(
    `dns change: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; traffic on both new addresses ${movedMs} ms after the change; ` +
      `served .1=${one.stats.echoCompleted} .2=${two.stats.echoCompleted} .3=${three.stats.echoCompleted}; lookups ${lookups}; failed attempts ${JSON.stringify(attemptErrors)}`,
  );
  expect(r.failed).toBe(0);
  expect(r.ok).toBeGreaterThan(100);
  expect(one.stats.grpc.cancelled).toBe(0);
  expect(view.endpoints.map((e) => e.key).sort()).toEqual([`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
  expect(view.draining).toEqual([]);
  expect(two.stats.echoCompleted).toBeGreaterThan(20);
  expect(three.stats.echoCompleted).toBeGreaterThan(20);
}, 20_000);

test("real DNS with a 1 s TTL (refreshInterval 30 s): the changed answer is followed within seconds, zero failures", async () => {
  const one = await startBackend({ host: "127.0.0.1" });
  const port = one.grpcPort;
  const two = await startBackend({ host: "127.0.0.2", port });
  const three = await startBackend({ host: "127.0.0.3", port });
  backends.push(one, two, three);
  dnsServer = await startFakeDnsServer();
  dnsServer.set("backends.test", { a: ["127.0.0.1"], ttl: 1 });
  const rt = await runtime();
  const servers = [dnsServer.address];
  gwReal = await startFaultGateway({
    upstream: { name: "demo", dns: { host: "backends.test", port, refreshInterval: "30s", minRefreshInterval: "100ms", minTtl: "1s" } },
    lookup: (host) => rt.resolveDns(host, { servers }),
  });
  const gateway = gwReal;
  const load = startLoad({ url: `${gateway.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `t${i}`, delayMs: 10 }), concurrency: 8 });
  expect(await waitFor(() => one.stats.echoCompleted > 20, 5_000)).toBe(true);
  const discovery = async () => (await adminUpstream(gateway, "demo") as unknown as { discovery: ResolverStats }).discovery;
  // The TTL came through the real resolver and drives the schedule (not the 30 s refresh interval).
  const before = await discovery();
  expect(before.ttl).toBe(1);
  expect(before.refreshInMs).toBeLessThan(30_000);

  const changedAt = Date.now();
  dnsServer.set("backends.test", { a: ["127.0.0.2", "127.0.0.3"], ttl: 1 });
  // Well inside the 30 s refresh interval: only the TTL (floored by minTtl) can have brought this lookup.
  expect(await waitFor(() => two.stats.echoCompleted > 0 && three.stats.echoCompleted > 0, 15_000)).toBe(true);
  const movedMs = Date.now() - changedAt;
  await sleepMs(300);
  const r = await load.stop();
  const view = await adminUpstream(gateway, "demo");
  const after = await discovery();
  console.log(
    `dns change (real DNS, ttl 1 s): ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; traffic on both new addresses ${movedMs} ms after the change; ` +
      `refresh every ${after.refreshInMs} ms; lookups ${after.lookups}; DNS queries ${dnsServer.queries.length}`,
  );
  expect(r.failed).toBe(0);
  expect(view.endpoints.map((e) => e.key).sort()).toEqual([`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
  expect(after.failures).toBe(0);
}, 30_000);
