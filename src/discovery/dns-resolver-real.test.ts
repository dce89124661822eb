// DnsResolver with the runtime's real resolveDns, pointed at a DNS server on loopback whose answers
// and TTLs the test chooses: the refresh cadence follows the record TTL, clamped to [minTtlMs, refreshMs].
import { afterAll, beforeAll, expect, test } from "bun:test";
import { detectRuntime, type Runtime } from "../runtime/index.ts";
import { startFakeDnsServer, type FakeDnsServer } from "../runtime/shared/fake-dns-server.ts";
import { DnsResolver, type DnsResolverOptions } from "./dns-resolver.ts";

let server: FakeDnsServer;
let rt: Runtime;
const resolvers: DnsResolver[] = [];
beforeAll(async () => {
  server = await startFakeDnsServer();
  rt = await detectRuntime();
});
afterAll(async () => {
  for (const r of resolvers) r.stop();
  await server.close();
});

function resolver(host: string, o: Partial<DnsResolverOptions>): DnsResolver {
  const r = new DnsResolver({ host, port: 9000, lookup: (h) => rt.resolveDns(h, { servers: [server.address] }), minRefreshMs: 100, ...o });
  resolvers.push(r);
  r.start();
  return r;
}

/** Arrival times of the A queries for one name (each lookup asks A and AAAA once). */
const aQueries = (name: string) => server.queries.filter((q) => q.name === name && q.type === "A").map((q) => q.at);
const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]!);

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

// Timers never fire early by more than clock granularity; allow a little for it.
const EARLY_MS = 30;

test("TTL 1 s refreshes every ~1 s, floored at minTtl; TTL 3600 s is capped by refreshMs", async () => {
  server.set("short.test", { a: ["10.2.0.1"], ttl: 1 });
  server.set("floored.test", { a: ["10.2.0.2"], ttl: 1 });
  server.set("long.test", { a: ["10.2.0.3"], ttl: 3600 });
  // refreshMs 10 s for the first two: three lookups within 9 s are only possible if the TTL drives them.
  const short = resolver("short.test", { refreshMs: 10_000, minTtlMs: 400 });
  const floored = resolver("floored.test", { refreshMs: 10_000, minTtlMs: 1_500 });
  const long = resolver("long.test", { refreshMs: 1_200, minTtlMs: 400 });
  const done = await waitFor(() => [aQueries("short.test"), aQueries("floored.test"), aQueries("long.test")].every((q) => q.length >= 3), 9_000);
  const seen = { short: aQueries("short.test"), floored: aQueries("floored.test"), long: aQueries("long.test") };
  console.log(`real DNS refresh gaps (ms): ${JSON.stringify({ short: gaps(seen.short), floored: gaps(seen.floored), long: gaps(seen.long) })}`);
  expect(done).toBe(true);

  // The TTL came through the real resolver and set the schedule.
  expect(short.stats()).toMatchObject({ ttl: 1, refreshInMs: 1_000, failures: 0 });
  expect(floored.stats()).toMatchObject({ ttl: 1, refreshInMs: 1_500, failures: 0 });
  expect(long.stats()).toMatchObject({ ttl: 3600, refreshInMs: 1_200, failures: 0 });
  // Never sooner than the clamped TTL (1 s; the 1.5 s floor; the 1.2 s refresh interval).
  for (const g of gaps(seen.short)) expect(g).toBeGreaterThanOrEqual(1_000 - EARLY_MS);
  for (const g of gaps(seen.floored)) expect(g).toBeGreaterThanOrEqual(1_500 - EARLY_MS);
  for (const g of gaps(seen.long)) expect(g).toBeGreaterThanOrEqual(1_200 - EARLY_MS);
  expect(short.current().map((e) => e.key)).toEqual(["10.2.0.1:9000"]);
}, 15_000);

test("a changed answer is picked up at the next TTL-driven lookup", async () => {
  server.set("change.test", { a: ["10.3.0.1"], ttl: 1 });
  const r = resolver("change.test", { refreshMs: 30_000, minTtlMs: 500 });
  await r.ready();
  expect(r.current().map((e) => e.key)).toEqual(["10.3.0.1:9000"]);
  server.set("change.test", { a: ["10.3.0.2", "10.3.0.3"], aaaa: ["fd00::3"], ttl: 1 });
  // With refreshMs 30 s, seeing the change within 10 s proves the 1 s TTL scheduled the lookup.
  const moved = await waitFor(() => r.current().length === 3, 10_000);
  expect(moved).toBe(true);
  expect(r.current().map((e) => e.key)).toEqual(["10.3.0.2:9000", "10.3.0.3:9000", "[fd00::3]:9000"]);
}, 15_000);
