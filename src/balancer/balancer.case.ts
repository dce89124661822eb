// Shared conformance suite: every balancer kind must pass it (hono's common.case.test.ts pattern).
// Run from balancer.test.ts; per-algorithm behaviour lives in each algorithm's own test file.
import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, type Clock } from "../core/index.ts";
import type { Balancer } from "./balancer.ts";
import { createBalancer, type CreateBalancerOptions } from "./create-balancer.ts";
import type { BalancerKind, EndpointHandle, PickResult } from "./types.ts";

export interface TestEndpoint extends EndpointHandle {
  load: number;
}

export function ep(key: string, weight = 1, load = 0): TestEndpoint {
  return { key, weight, load, inflight() { return this.load; } };
}

/** Seeded PRNG (mulberry32) so "random" tests are repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ManualClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

export function okKey(r: PickResult<TestEndpoint>): string {
  if (r.kind !== "ok") throw new Error(`expected ok, got ${r.kind}`);
  return r.endpoint.key;
}

/** Picks n times (a distinct hash key per pick) and counts picks per key. */
export function tally(b: Balancer<TestEndpoint>, n: number, prefix = "req"): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = okKey(b.pick({ hashKey: `${prefix}-${i}` }));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

export interface ConformanceOptions {
  /** Allowed relative deviation of each endpoint's share from its weight's share. */
  readonly tolerance: number;
}

export function runBalancerConformance(kind: BalancerKind, { tolerance }: ConformanceOptions): void {
  const make = (extra: CreateBalancerOptions = {}) => {
    const clock = new ManualClock();
    const b = createBalancer<TestEndpoint>(kind, {
      clock, random: seeded(42), upstream: "users",
      outlier: { consecutiveConnectFailures: 3, baseEjectionMs: 10_000, maxEjectionPercent: 50 }, ...extra,
    });
    return { b, clock };
  };
  const N = 40_000;
  const expectShares = (counts: Map<string, number>, weights: Record<string, number>) => {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    const picks = [...counts.values()].reduce((a, b) => a + b, 0);
    expect([...counts.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [key, w] of Object.entries(weights)) {
      const share = (counts.get(key) ?? 0) / picks;
      const want = w / total;
      expect(Math.abs(share - want) / want).toBeLessThanOrEqual(tolerance);
    }
  };

  describe(`balancer conformance: ${kind}`, () => {
    test("before any endpoint list arrives, picks queue", () => {
      const { b } = make();
      expect(b.pick().kind).toBe("queue");
    });

    test("an empty list fails fast with UNAVAILABLE no_endpoints, marked never sent", () => {
      const { b } = make();
      b.setEndpoints([]);
      const r = b.pick({ hashKey: "x" });
      if (r.kind !== "fail") throw new Error(`expected fail, got ${r.kind}`);
      expect(GatewayError.is(r.error)).toBe(true);
      expect(r.error.code).toBe(GrpcCode.UNAVAILABLE);
      expect(r.error.reason).toBe("no_endpoints");
      expect(r.error.neverSent).toBe(true);
      expect(r.error.upstream).toBe("users");
    });

    test("endpoints with weight 0 are never picked; all at 0 fails", () => {
      const { b } = make();
      b.setEndpoints([ep("a:1", 0), ep("b:1", 1)]);
      expect(tally(b, 500)).toEqual(new Map([["b:1", 500]]));
      b.setEndpoints([ep("a:1", 0)]);
      expect(b.pick().kind).toBe("fail");
    });

    test("a single endpoint gets every pick", () => {
      const { b } = make();
      b.setEndpoints([ep("10.0.0.1:80")]);
      expect(tally(b, 1_000)).toEqual(new Map([["10.0.0.1:80", 1_000]]));
    });

    test("equal weights share the traffic evenly", () => {
      const { b } = make();
      b.setEndpoints(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"].map((k) => ep(k)));
      expectShares(tally(b, N), { "10.0.0.1:80": 1, "10.0.0.2:80": 1, "10.0.0.3:80": 1, "10.0.0.4:80": 1 });
    });

    test("traffic follows the weights", () => {
      const { b } = make();
      b.setEndpoints([ep("10.0.0.1:80", 1), ep("10.0.0.2:80", 2), ep("10.0.0.3:80", 3), ep("10.0.0.4:80", 4)]);
      expectShares(tally(b, N), { "10.0.0.1:80": 1, "10.0.0.2:80": 2, "10.0.0.3:80": 3, "10.0.0.4:80": 4 });
    });

    test("an added endpoint gets its share; a removed one is never picked again", () => {
      const { b } = make();
      b.setEndpoints([ep("10.0.0.1:80"), ep("10.0.0.2:80")]);
      b.setEndpoints([ep("10.0.0.1:80"), ep("10.0.0.2:80"), ep("10.0.0.3:80")]);
      expectShares(tally(b, N), { "10.0.0.1:80": 1, "10.0.0.2:80": 1, "10.0.0.3:80": 1 });
      b.setEndpoints([ep("10.0.0.1:80"), ep("10.0.0.3:80")]);
      expectShares(tally(b, N), { "10.0.0.1:80": 1, "10.0.0.3:80": 1 });
    });

    test("a new picker is published on every change of the list", () => {
      const { b } = make();
      const seen: string[][] = [];
      b.onPickerChange((p) => seen.push(p.endpoints.map((e) => e.key).sort()));
      b.setEndpoints([ep("a:1")]);
      b.setEndpoints([ep("a:1"), ep("b:1")]);
      expect(seen).toEqual([["a:1"], ["a:1", "b:1"]]);
    });

    test("an ejected endpoint is never picked until its ejection ends", () => {
      const { b, clock } = make();
      b.setEndpoints([ep("10.0.0.1:80"), ep("10.0.0.2:80"), ep("10.0.0.3:80")]);
      for (let i = 0; i < 3; i++) b.recordFailure("10.0.0.2:80", "connect");
      const during = tally(b, 10_000);
      expect(during.has("10.0.0.2:80")).toBe(false);
      expect(during.size).toBe(2);
      expect(b.stats().endpoints.find((e) => e.key === "10.0.0.2:80")).toMatchObject({ ejected: true, pickable: false });
      clock.t += 9_999;
      expect(tally(b, 5_000).has("10.0.0.2:80")).toBe(false);
      clock.t += 1;
      expectShares(tally(b, N), { "10.0.0.1:80": 1, "10.0.0.2:80": 1, "10.0.0.3:80": 1 });
    });

    test("a total outage never ejects everything: picks keep succeeding", () => {
      const { b } = make();
      const keys = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"];
      b.setEndpoints(keys.map((k) => ep(k)));
      for (let round = 0; round < 10; round++) for (const k of keys) b.recordFailure(k, "connect");
      const s = b.stats();
      expect(s.ejected).toBe(2);
      expect(s.pickable).toBe(2);
      expect(s.skippedEjections).toBeGreaterThan(0);
      expect(tally(b, 1_000).size).toBe(2);
    });

    test("with outlier detection off, failures change nothing", () => {
      const { b } = make({ outlier: false });
      b.setEndpoints([ep("a:1"), ep("b:1")]);
      for (let i = 0; i < 50; i++) b.recordFailure("a:1", "connect");
      expect(tally(b, 2_000).size).toBe(2);
      expect(b.stats().ejected).toBe(0);
    });
  });
}
