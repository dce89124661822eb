import { describe, expect, test } from "bun:test";
import { DnsResolver, type DnsResolverOptions } from "./dns-resolver.ts";
import { FakeDns, FakeTimers, flush, v4 } from "./test-fakes.ts";
import type { LookupAddress, ResolvedEndpoint, ResolverErrorEvent } from "./types.ts";

function setup(extra: Partial<DnsResolverOptions> = {}) {
  const timers = new FakeTimers();
  const dns = new FakeDns();
  const resolver = new DnsResolver({
    host: "api.internal", port: 8080, lookup: dns.lookup, timers, refreshMs: 10_000, minRefreshMs: 1_000,
    backoff: { initialMs: 1_000, maxMs: 8_000, multiplier: 2, jitter: 0 }, lookupTimeoutMs: 3_000, ...extra,
  });
  const changes: (readonly ResolvedEndpoint[])[] = [];
  const errors: ResolverErrorEvent[] = [];
  resolver.onChange((set) => changes.push(set));
  resolver.onError((e) => errors.push(e));
  const keys = () => resolver.current().map((e) => e.key);
  return { timers, dns, resolver, changes, errors, keys };
}

describe("DnsResolver", () => {
  test("first answer is published keyed by ip:port, sorted, with the host name kept", async () => {
    const { timers, dns, resolver, changes, keys } = setup();
    dns.set("api.internal", v4("10.0.0.9", "10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    await resolver.ready();
    expect(keys()).toEqual(["10.0.0.1:8080", "10.0.0.9:8080"]);
    expect(resolver.current()[0]).toEqual({ address: "10.0.0.1", port: 8080, weight: 1, key: "10.0.0.1:8080", hostname: "api.internal" });
    expect(changes.length).toBe(1);
    resolver.stop();
  });

  test("scale-out propagates at the next refresh; unchanged or re-ordered answers emit nothing", async () => {
    const { timers, dns, resolver, changes, keys } = setup();
    dns.set("api.internal", v4("10.0.0.1", "10.0.0.2"));
    resolver.start();
    await timers.advance(0);
    dns.set("api.internal", v4("10.0.0.2", "10.0.0.1"));
    await timers.advance(10_000);
    expect(dns.calls.length).toBe(2);
    expect(changes.length).toBe(1);
    dns.set("api.internal", v4("10.0.0.2", "10.0.0.1", "10.0.0.3"));
    await timers.advance(9_999);
    expect(keys()).toEqual(["10.0.0.1:8080", "10.0.0.2:8080"]);
    await timers.advance(1);
    expect(keys()).toEqual(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"]);
    expect(changes.length).toBe(2);
    expect(changes[1]!.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    resolver.stop();
  });

  test("a failed lookup keeps the last good set and reports through onError", async () => {
    const { timers, dns, resolver, changes, errors, keys } = setup();
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    dns.set("api.internal", new Error("SERVFAIL"));
    await timers.advance(10_000);
    expect(keys()).toEqual(["10.0.0.1:8080"]);
    expect(changes.length).toBe(1);
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatchObject({ source: "dns:api.internal:8080", kind: "lookup_failed", consecutiveFailures: 1, keptLastGood: true });
    expect((errors[0]!.cause as Error).message).toBe("SERVFAIL");
    expect(resolver.stats()).toMatchObject({ consecutiveFailures: 1, failures: 1, lastError: "SERVFAIL", endpoints: 1 });
    resolver.stop();
  });

  test("an empty answer keeps the last good set by default", async () => {
    const { timers, dns, resolver, errors, keys } = setup();
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    dns.set("api.internal", []);
    await timers.advance(10_000);
    expect(keys()).toEqual(["10.0.0.1:8080"]);
    expect(errors.map((e) => e.kind)).toEqual(["empty_answer"]);
    resolver.stop();
  });

  test("keepLastGoodOnEmpty=false publishes the empty set as a real answer", async () => {
    const { timers, dns, resolver, errors, changes, keys } = setup({ keepLastGoodOnEmpty: false });
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    dns.set("api.internal", []);
    await timers.advance(10_000);
    expect(keys()).toEqual([]);
    expect(changes.length).toBe(2);
    expect(errors.length).toBe(0);
    resolver.stop();
  });

  test("keepLastGoodOnError=false drops the set on failure", async () => {
    const { timers, dns, resolver, errors, keys } = setup({ keepLastGoodOnError: false });
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    dns.set("api.internal", new Error("SERVFAIL"));
    await timers.advance(10_000);
    expect(keys()).toEqual([]);
    expect(errors[0]!.keptLastGood).toBe(false);
    resolver.stop();
  });

  test("back-off grows on consecutive failures, is capped, and resets after success", async () => {
    const { timers, dns, resolver, errors, keys } = setup();
    dns.set("api.internal", new Error("SERVFAIL"));
    resolver.start();
    await timers.advance(0);
    for (let i = 0; i < 5; i++) await timers.advance(errors.at(-1)!.retryInMs);
    expect(errors.map((e) => e.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(errors.map((e) => e.consecutiveFailures)).toEqual([1, 2, 3, 4, 5, 6]);
    // The scheduled timer matches the reported delay (not just the report).
    expect(timers.pendingDelays()).toEqual([8_000]);
    dns.set("api.internal", v4("10.0.0.1"));
    await timers.advance(8_000);
    expect(keys()).toEqual(["10.0.0.1:8080"]);
    expect(resolver.stats().consecutiveFailures).toBe(0);
    expect(timers.pendingDelays()).toEqual([10_000]);
  });

  test("jitter comes from the injected random and stays within the back-off bounds", async () => {
    const { timers, dns, resolver, errors } = setup({
      backoff: { initialMs: 1_000, maxMs: 8_000, multiplier: 2, jitter: 0.5 }, random: () => 0,
    });
    dns.set("api.internal", new Error("x"));
    resolver.start();
    await timers.advance(0);
    await timers.advance(errors.at(-1)!.retryInMs);
    await timers.advance(errors.at(-1)!.retryInMs);
    // random()=0 with 50% jitter takes the lower half: base/2, floored at minRefreshMs (1s).
    expect(errors.map((e) => e.retryInMs)).toEqual([1_000, 1_000, 2_000]);
    resolver.stop();
  });

  test("a hung lookup times out, counts as a failure and is retried", async () => {
    const { timers, dns, resolver, errors, keys } = setup();
    dns.set("api.internal", "hang");
    resolver.start();
    await timers.advance(3_000);
    expect(errors.map((e) => e.kind)).toEqual(["lookup_timeout"]);
    dns.set("api.internal", v4("10.0.0.1"));
    await timers.advance(errors[0]!.retryInMs);
    expect(keys()).toEqual(["10.0.0.1:8080"]);
    resolver.stop();
  });

  test("a lookup that throws synchronously is a failure, not a crash", async () => {
    const timers = new FakeTimers();
    const errors: ResolverErrorEvent[] = [];
    const r = new DnsResolver({ host: "h", port: 1, timers, lookup: () => { throw new Error("boom"); } });
    r.onError((e) => errors.push(e));
    r.start();
    await timers.advance(0);
    expect(errors[0]!.kind).toBe("lookup_failed");
    r.stop();
  });

  test("stop clears every timer (lookup timeout included) and ignores answers that arrive later; start/stop are idempotent", async () => {
    const timers = new FakeTimers();
    const changes: (readonly ResolvedEndpoint[])[] = [];
    let release!: (a: LookupAddress[]) => void;
    let calls = 0;
    const r = new DnsResolver({
      host: "api.internal", port: 8080, timers,
      lookup: () => (calls++, new Promise<LookupAddress[]>((res) => (release = res))),
    });
    r.onChange((s) => changes.push(s));
    r.start();
    r.start();
    await timers.advance(0);
    expect(calls).toBe(1);
    expect(timers.pendingCount).toBe(1); // the lookup timeout
    r.stop();
    r.stop();
    expect(timers.pendingCount).toBe(0);
    release([{ address: "10.0.0.1", family: 4 }]);
    await flush();
    expect(r.current()).toEqual([]);
    expect(changes.length).toBe(0);
    await timers.advance(120_000);
    expect(calls).toBe(1);
  });

  test("restart after stop resolves again", async () => {
    const { timers, dns, resolver, keys } = setup();
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    resolver.stop();
    dns.set("api.internal", v4("10.0.0.2"));
    await timers.advance(5_000);
    expect(keys()).toEqual(["10.0.0.1:8080"]);
    resolver.start();
    await timers.advance(0);
    expect(keys()).toEqual(["10.0.0.2:8080"]);
    resolver.stop();
    expect(timers.pendingCount).toBe(0);
  });

  test("refresh() brings the next lookup forward but never closer than minRefreshMs", async () => {
    const { timers, dns, resolver } = setup();
    dns.set("api.internal", v4("10.0.0.1"));
    resolver.start();
    await timers.advance(0);
    expect(dns.calls.length).toBe(1);
    for (let i = 0; i < 10; i++) resolver.refresh();
    await timers.advance(999);
    expect(dns.calls.length).toBe(1);
    await timers.advance(1);
    expect(dns.calls.length).toBe(2);
    resolver.refresh();
    await timers.advance(1_000);
    expect(dns.calls.length).toBe(3);
    resolver.stop();
  });

  test("refresh() does not cut a back-off short", async () => {
    const { timers, dns, resolver } = setup();
    dns.set("api.internal", new Error("x"));
    resolver.start();
    await timers.advance(0);
    await timers.advance(1_000);
    expect(dns.calls.length).toBe(2); // second failure: next retry in 2s
    resolver.refresh();
    await timers.advance(1_999);
    expect(dns.calls.length).toBe(2);
    await timers.advance(1);
    expect(dns.calls.length).toBe(3);
    resolver.stop();
  });

  test("family filter and weight apply to every address", async () => {
    const { timers, dns, resolver } = setup({ family: 6, weight: 3 });
    dns.set("api.internal", [{ address: "10.0.0.1", family: 4 }, { address: "fd00::1", family: 6 }]);
    resolver.start();
    await timers.advance(0);
    expect(resolver.current()).toEqual([{ address: "fd00::1", port: 8080, weight: 3, key: "[fd00::1]:8080", hostname: "api.internal" }]);
    resolver.stop();
  });

  describe("record TTLs", () => {
    const withTtl = (ttl: number, ...addresses: string[]): LookupAddress[] => addresses.map((address) => ({ address, family: 4, ttl }));

    test("the next lookup is due at the shortest TTL, within [minTtlMs, refreshMs]", async () => {
      const { timers, dns, resolver } = setup({ minTtlMs: 3_000 });
      dns.set("api.internal", [...withTtl(7, "10.0.0.1"), ...withTtl(12, "10.0.0.2")]);
      resolver.start();
      await timers.advance(0);
      expect(timers.pendingDelays()).toEqual([7_000]);
      expect(resolver.stats()).toMatchObject({ ttl: 7, refreshInMs: 7_000 });
      await timers.advance(6_999);
      expect(dns.calls.length).toBe(1);
      await timers.advance(1);
      expect(dns.calls.length).toBe(2);
      resolver.stop();
    });

    test("a TTL below minTtlMs (0 or 1 s) is raised to it", async () => {
      const { timers, dns, resolver } = setup({ minTtlMs: 3_000 });
      dns.set("api.internal", withTtl(1, "10.0.0.1"));
      resolver.start();
      await timers.advance(0);
      expect(timers.pendingDelays()).toEqual([3_000]);
      dns.set("api.internal", withTtl(0, "10.0.0.1"));
      await timers.advance(3_000);
      expect(dns.calls.length).toBe(2);
      expect(timers.pendingDelays()).toEqual([3_000]);
      expect(resolver.stats()).toMatchObject({ ttl: 0, refreshInMs: 3_000 });
      resolver.stop();
    });

    test("a TTL above refreshMs is capped by it", async () => {
      const { timers, dns, resolver } = setup({ minTtlMs: 3_000 });
      dns.set("api.internal", withTtl(3_600, "10.0.0.1"));
      resolver.start();
      await timers.advance(0);
      expect(timers.pendingDelays()).toEqual([10_000]);
      resolver.stop();
    });

    test("minRefreshMs still applies when it is above minTtlMs", async () => {
      const { timers, dns, resolver } = setup({ minTtlMs: 500, minRefreshMs: 2_000 });
      dns.set("api.internal", withTtl(1, "10.0.0.1"));
      resolver.start();
      await timers.advance(0);
      expect(timers.pendingDelays()).toEqual([2_000]);
      resolver.stop();
    });

    test("only the addresses kept by the family filter count; an answer without TTL uses refreshMs", async () => {
      const { timers, dns, resolver } = setup({ minTtlMs: 1_000, family: 6 });
      dns.set("api.internal", [{ address: "10.0.0.1", family: 4, ttl: 2 }, { address: "fd00::1", family: 6, ttl: 8 }]);
      resolver.start();
      await timers.advance(0);
      expect(timers.pendingDelays()).toEqual([8_000]);
      dns.set("api.internal", [{ address: "fd00::1", family: 6 }]);
      await timers.advance(8_000);
      expect(timers.pendingDelays()).toEqual([10_000]);
      expect(resolver.stats().ttl).toBeUndefined();
      resolver.stop();
    });

    test("a resolve-once source (refreshMs: Infinity) ignores TTLs", async () => {
      const { timers, dns, resolver, keys } = setup({ refreshMs: Infinity, minTtlMs: 1_000 });
      dns.set("api.internal", withTtl(1, "10.0.0.1"));
      resolver.start();
      await timers.advance(0);
      expect(keys()).toEqual(["10.0.0.1:8080"]);
      expect(timers.pendingCount).toBe(0);
      await timers.advance(60_000);
      expect(dns.calls.length).toBe(1);
      resolver.stop();
    });

    test("after a failure the back-off applies, and the TTL again after the next good answer", async () => {
      const { timers, dns, resolver, errors } = setup({ minTtlMs: 1_000 });
      dns.set("api.internal", withTtl(4, "10.0.0.1"));
      resolver.start();
      await timers.advance(0);
      dns.set("api.internal", new Error("SERVFAIL"));
      await timers.advance(4_000);
      expect(errors.length).toBe(1);
      expect(timers.pendingDelays()).toEqual([errors[0]!.retryInMs]);
      dns.set("api.internal", withTtl(6, "10.0.0.2"));
      await timers.advance(errors[0]!.retryInMs);
      expect(timers.pendingDelays()).toEqual([6_000]);
      resolver.stop();
    });
  });

  test("with the real timers the resolver refreshes on its own", async () => {
    const dns = new FakeDns();
    dns.set("svc", v4("10.1.0.1"));
    const r = new DnsResolver({ host: "svc", port: 80, lookup: dns.lookup, refreshMs: 20, minRefreshMs: 5 });
    const seen = new Promise<readonly ResolvedEndpoint[]>((resolve) => {
      r.onChange((s) => { if (s.length === 2) resolve(s); });
    });
    r.start();
    await r.ready();
    dns.set("svc", v4("10.1.0.1", "10.1.0.2"));
    const set = await seen;
    r.stop();
    expect(set.map((e) => e.key)).toEqual(["10.1.0.1:80", "10.1.0.2:80"]);
  }, 5_000);
});
