import { describe, expect, test } from "bun:test";
import { ep, ManualClock, okKey, runBalancerConformance, seeded, tally } from "./balancer.case.ts";
import { balancerKinds, createBalancer } from "./create-balancer.ts";
import type { TestEndpoint } from "./balancer.case.ts";

// Round-robin is exact; P2C is random draws (seeded); the ring splits to within ~15% by design.
runBalancerConformance("round_robin", { tolerance: 0.01 });
runBalancerConformance("least_request", { tolerance: 0.05 });
runBalancerConformance("ring_hash", { tolerance: 0.2 });

describe("Balancer", () => {
  test("createBalancer defaults to round_robin and rejects unknown kinds", () => {
    expect(createBalancer().kind).toBe("round_robin");
    expect(balancerKinds).toEqual(["round_robin", "least_request", "ring_hash"]);
    expect(() => createBalancer("random" as never)).toThrow(/unknown balancer kind/);
  });

  test("setting the same handles again does not rebuild the picker; duplicate keys keep the first", () => {
    const b = createBalancer<TestEndpoint>("round_robin", { random: seeded(1) });
    const list = [ep("a:1"), ep("b:1"), ep("a:1", 5)];
    b.setEndpoints(list);
    b.setEndpoints(list);
    const s = b.stats();
    expect(s.pickerBuilds).toBe(1);
    expect(s.endpoints.map((e) => [e.key, e.weight])).toEqual([["a:1", 1], ["b:1", 1]]);
    (list[1] as { weight: number }).weight = 3;
    b.setEndpoints(list);
    expect(b.stats().pickerBuilds).toBe(2);
    expect(tally(b, 400).get("b:1")).toBe(300);
  });

  test("stats are plain data for the admin endpoint, with ejection state per endpoint", () => {
    const clock = new ManualClock();
    const b = createBalancer<TestEndpoint>("least_request", {
      clock, random: seeded(3), outlier: { consecutiveConnectFailures: 2, baseEjectionMs: 1_000 },
    });
    b.setEndpoints([ep("a:1", 1, 4), ep("b:1"), ep("c:1")]);
    b.recordSuccess("a:1");
    b.recordFailure("a:1", "call");
    b.recordFailure("b:1", "connect");
    b.recordFailure("b:1", "connect");
    const s = b.stats();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s).toMatchObject({ kind: "least_request", pickable: 2, ejected: 1, maxEjected: 1, skippedEjections: 0 });
    expect(s.endpoints[0]).toMatchObject({
      key: "a:1", weight: 1, inflight: 4, pickable: true, ejected: false, windowSuccesses: 1, windowFailures: 1,
      consecutiveConnectFailures: 0,
    });
    expect(s.endpoints[1]).toMatchObject({
      key: "b:1", pickable: false, ejected: true, ejectedUntil: clock.t + 1_000,
      lastEjectionReason: "consecutive_connect_failures", ejections: 1, ejectionMultiplier: 1,
    });
  });

  test("ejection and return are published as events and as new pickers", () => {
    const clock = new ManualClock();
    const b = createBalancer<TestEndpoint>("round_robin", { clock, outlier: { consecutiveConnectFailures: 1, baseEjectionMs: 500 } });
    const events: string[] = [];
    b.onOutlier((e) => events.push(`${e.type}:${e.key}`));
    let pickers = 0;
    b.onPickerChange(() => pickers++);
    b.setEndpoints([ep("a:1"), ep("b:1")]);
    b.recordFailure("a:1", "connect");
    clock.t += 500;
    b.pick();
    expect(events).toEqual(["ejected:a:1", "returned:a:1"]);
    expect(pickers).toBe(3);
  });

  test("a pick right after an ejection ends sees the endpoint again without any timer", () => {
    const clock = new ManualClock();
    const b = createBalancer<TestEndpoint>("ring_hash", { clock, outlier: { consecutiveConnectFailures: 1, baseEjectionMs: 100 } });
    b.setEndpoints([ep("a:1"), ep("b:1")]);
    const owner = (k: string) => okKey(b.pick({ hashKey: k }));
    const keysOnA = Array.from({ length: 200 }, (_, i) => `k${i}`).filter((k) => owner(k) === "a:1");
    expect(keysOnA.length).toBeGreaterThan(0);
    b.recordFailure("a:1", "connect");
    expect(keysOnA.every((k) => owner(k) === "b:1")).toBe(true);
    clock.t += 100;
    expect(keysOnA.every((k) => owner(k) === "a:1")).toBe(true);
  });

  test("the ejection percentage counts endpoints in rotation only, and the last one is never ejected", () => {
    const b = createBalancer<TestEndpoint>("round_robin", { outlier: { consecutiveConnectFailures: 1, maxEjectionPercent: 100 } });
    b.setEndpoints([ep("a:1"), ep("b:1", 0)]);
    b.recordFailure("a:1", "connect");
    expect(b.stats().ejected).toBe(0);
    expect(tally(b, 10)).toEqual(new Map([["a:1", 10]]));
  });
});
