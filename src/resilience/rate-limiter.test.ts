import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import { RETRY_INFO_TYPE, retryAfterMsOf } from "./errors.ts";
import { RateLimitPolicy, type RateLimitedEvent } from "./rate-limit-policy.ts";
import { RateLimiter } from "./rate-limiter.ts";

function fakeClock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("RateLimiter", () => {
  test("allows the burst, then refuses with the time until the next token", () => {
    const clock = fakeClock();
    const l = new RateLimiter({ ratePerSec: 10, burst: 2, clock });
    expect(l.take("a")).toEqual({ allowed: true, remaining: 1 });
    expect(l.take("a")).toEqual({ allowed: true, remaining: 0 });
    expect(l.take("a")).toEqual({ allowed: false, retryAfterMs: 100 });
    clock.t += 40;
    expect(l.take("a")).toEqual({ allowed: false, retryAfterMs: 60 });
    clock.t += 60;
    expect(l.take("a").allowed).toBe(true);
  });

  test("keys have separate buckets", () => {
    const l = new RateLimiter({ ratePerSec: 1, burst: 1, clock: fakeClock() });
    expect(l.take("a").allowed).toBe(true);
    expect(l.take("a").allowed).toBe(false);
    expect(l.take("b").allowed).toBe(true);
  });

  test("refill is capped at the burst", () => {
    const clock = fakeClock();
    const l = new RateLimiter({ ratePerSec: 100, burst: 3, clock });
    l.take("a");
    clock.t += 60_000;
    let allowed = 0;
    while (l.take("a").allowed) allowed++;
    expect(allowed).toBe(3);
  });

  test("the key map is bounded and evicts the least recently used key", () => {
    const clock = fakeClock();
    const l = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 3, clock });
    l.take("a");
    l.take("b");
    l.take("c");
    l.take("a"); // a is now most recent (and refused: still empty)
    l.take("d"); // evicts b
    expect(l.size).toBe(3);
    expect(l.stats().evicted).toBe(1);
    // a kept its (empty) bucket; b comes back fresh
    expect(l.take("a").allowed).toBe(false);
    expect(l.take("b").allowed).toBe(true);
    for (let i = 0; i < 1000; i++) l.take(`k${i}`);
    expect(l.size).toBe(3);
  });

  test("a cost above the burst can never be met", () => {
    const l = new RateLimiter({ ratePerSec: 1, burst: 2, clock: fakeClock() });
    const d = l.take("a", 3);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.retryAfterMs).toBe(Infinity);
  });
});

describe("RateLimitPolicy", () => {
  test("refuses with RESOURCE_EXHAUSTED rate_limited carrying retry-after as RetryInfo", async () => {
    const clock = fakeClock();
    const p = new RateLimitPolicy({ name: "public-api", limiter: new RateLimiter({ ratePerSec: 4, burst: 1, clock }) });
    const events: RateLimitedEvent[] = [];
    p.onLimited.on((e) => events.push(e));
    let calls = 0;
    const fn = async () => ++calls;
    expect(await p.execute(fn, undefined, { clientKey: "tenant-1" })).toBe(1);
    const e = await p.execute(fn, undefined, { clientKey: "tenant-1" }).catch((x: unknown) => x);
    expect(calls).toBe(1);
    expect(GatewayError.is(e)).toBe(true);
    const g = e as GatewayError;
    expect(g.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(g.reason).toBe(Reason.rateLimited);
    expect(g.details).toEqual([{ "@type": RETRY_INFO_TYPE, retryDelay: "0.25s" }]);
    expect(retryAfterMsOf(g)).toBe(250);
    expect(events).toEqual([{ name: "public-api", key: "tenant-1", retryAfterMs: 250 }]);
    // another client is unaffected
    expect(await p.execute(fn, undefined, { clientKey: "tenant-2" })).toBe(2);
  });

  test("calls without a clientKey share the default bucket", async () => {
    const p = new RateLimitPolicy({ name: "x", limiter: new RateLimiter({ ratePerSec: 1, burst: 1, clock: fakeClock() }) });
    await p.execute(async () => 1);
    await expect(p.execute(async () => 2)).rejects.toMatchObject({ reason: Reason.rateLimited });
  });
});

describe("retryAfterMsOf", () => {
  test("falls back to pushbackMs and ignores non-gateway errors", () => {
    const g = new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.upstreamStatus, message: "m", pushbackMs: 70 });
    expect(retryAfterMsOf(g)).toBe(70);
    expect(retryAfterMsOf(new Error("x"))).toBeUndefined();
  });
});
