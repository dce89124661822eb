import { describe, expect, test } from "bun:test";
import { DnsResolver } from "./dns-resolver.ts";
import { FakeDns, FakeTimers, v4 } from "./test-fakes.ts";
import { MergedResolver } from "./merged-resolver.ts";
import { createStaticResolver } from "./static-resolver.ts";
import type { ResolvedEndpoint, ResolverErrorEvent } from "./types.ts";

describe("createStaticResolver", () => {
  test("IP literals with and without weights, IPv6 included, no lookup needed", async () => {
    const r = createStaticResolver(["10.0.0.2:80", { address: "10.0.0.1:80", weight: 5 }, "[fd00::1]:81"]);
    r.start();
    await r.ready();
    expect(r.current()).toEqual([
      { address: "10.0.0.1", port: 80, weight: 5, key: "10.0.0.1:80" },
      { address: "10.0.0.2", port: 80, weight: 1, key: "10.0.0.2:80" },
      { address: "fd00::1", port: 81, weight: 1, key: "[fd00::1]:81" },
    ]);
    r.stop();
  });

  test("host names are resolved once, keyed by the resolved IP, and keep their weight", async () => {
    const timers = new FakeTimers();
    const dns = new FakeDns();
    dns.set("api.internal", v4("10.0.0.7", "10.0.0.8"));
    const r = createStaticResolver(["10.0.0.1:80", { address: "api.internal:9000", weight: 2 }], { lookup: dns.lookup, timers });
    r.start();
    await timers.advance(0);
    await r.ready();
    expect(r.current().map((e) => [e.key, e.weight, e.hostname])).toEqual([
      ["10.0.0.1:80", 1, undefined],
      ["10.0.0.7:9000", 2, "api.internal"],
      ["10.0.0.8:9000", 2, "api.internal"],
    ]);
    dns.set("api.internal", v4("10.0.0.9"));
    r.refresh();
    await timers.advance(24 * 3_600_000);
    expect(dns.calls).toEqual(["api.internal"]);
    expect(r.current().length).toBe(3);
    r.stop();
    expect(timers.pendingCount).toBe(0);
  });

  test("a host name that fails at start is retried with back-off until it resolves; errors surface", async () => {
    const timers = new FakeTimers();
    const dns = new FakeDns();
    const errors: ResolverErrorEvent[] = [];
    const changes: (readonly ResolvedEndpoint[])[] = [];
    const r = createStaticResolver(["10.0.0.1:80", "late.internal:80"], {
      lookup: dns.lookup, timers, backoff: { initialMs: 500, maxMs: 4_000, jitter: 0 },
    });
    r.onError((e) => errors.push(e));
    r.onChange((s) => changes.push(s));
    r.start();
    await timers.advance(0);
    expect(r.current().map((e) => e.key)).toEqual(["10.0.0.1:80"]);
    await timers.advance(500);
    expect(errors.map((e) => [e.source, e.retryInMs])).toEqual([["dns:late.internal:80", 500], ["dns:late.internal:80", 1_000]]);
    dns.set("late.internal", v4("10.0.0.5"));
    await timers.advance(1_000);
    expect(r.current().map((e) => e.key)).toEqual(["10.0.0.1:80", "10.0.0.5:80"]);
    // The literal was there before start; only the late host name is a change.
    expect(changes.map((c) => c.map((e) => e.key))).toEqual([["10.0.0.1:80", "10.0.0.5:80"]]);
    expect(r.stats()).toMatchObject({ source: "static", endpoints: 2, failures: 2, consecutiveFailures: 0 });
    r.stop();
  });

  test("an IP literal and a host name resolving to the same ip:port give one endpoint (the literal's weight)", async () => {
    const timers = new FakeTimers();
    const dns = new FakeDns();
    dns.set("dup.internal", v4("10.0.0.1"));
    const r = createStaticResolver([{ address: "10.0.0.1:80", weight: 4 }, "dup.internal:80"], { lookup: dns.lookup, timers });
    r.start();
    await timers.advance(0);
    expect(r.current()).toEqual([{ address: "10.0.0.1", port: 80, weight: 4, key: "10.0.0.1:80" }]);
    r.stop();
  });

  test("host names without a lookup, or malformed entries, are rejected when built", () => {
    expect(() => createStaticResolver(["api.internal:80"])).toThrow(/no lookup/);
    expect(() => createStaticResolver(["10.0.0.1"])).toThrow(/missing port/);
    expect(createStaticResolver(["10.0.0.1"], { defaultPort: 81 }).current()[0]!.key).toBe("10.0.0.1:81");
  });
});

describe("MergedResolver", () => {
  test("union of sources, change events only on a real change, stop stops every source", async () => {
    const timers = new FakeTimers();
    const dns = new FakeDns();
    dns.set("a", v4("10.0.0.1"));
    dns.set("b", v4("10.0.0.2"));
    const mk = (host: string) => new DnsResolver({ host, port: 80, lookup: dns.lookup, timers, refreshMs: 1_000, minRefreshMs: 0 });
    const m = new MergedResolver([mk("a"), mk("b")]);
    const changes: string[][] = [];
    m.onChange((s) => changes.push(s.map((e) => e.key)));
    m.start();
    m.start();
    await timers.advance(0);
    await m.ready();
    expect(m.current().map((e) => e.key)).toEqual(["10.0.0.1:80", "10.0.0.2:80"]);
    await timers.advance(1_000);
    expect(changes.at(-1)).toEqual(["10.0.0.1:80", "10.0.0.2:80"]);
    const before = changes.length;
    await timers.advance(5_000);
    expect(changes.length).toBe(before);
    dns.set("b", v4("10.0.0.1"));
    await timers.advance(1_000);
    expect(changes.at(-1)).toEqual(["10.0.0.1:80"]);
    expect(m.stats().sources?.length).toBe(2);
    m.stop();
    m.stop();
    expect(timers.pendingCount).toBe(0);
  });
});
