import { describe, expect, test } from "bun:test";
import { FailureWindow } from "./failure-window.ts";
import { OutlierDetector, type OutlierOptions } from "./outlier-detector.ts";

const T0 = 1_000_000;

function detector(o: OutlierOptions = {}, keys = ["a", "b", "c", "d"]) {
  const d = new OutlierDetector({ baseEjectionMs: 1_000, maxEjectionMs: 5_000, ...o });
  d.sync(keys);
  return d;
}

describe("OutlierDetector: consecutive connect failures", () => {
  test("N in a row eject; N-1 do not", () => {
    const d = detector({ consecutiveConnectFailures: 3 });
    expect(d.recordFailure("a", "connect", T0)).toBeUndefined();
    expect(d.recordFailure("a", "connect", T0)).toBeUndefined();
    expect(d.isEjected("a")).toBe(false);
    expect(d.recordFailure("a", "connect", T0)).toEqual({
      type: "ejected", key: "a", reason: "consecutive_connect_failures", durationMs: 1_000, multiplier: 1,
    });
    expect(d.isEjected("a")).toBe(true);
    expect(d.nextReturnAt()).toBe(T0 + 1_000);
  });

  test("a success resets the run; call failures do not count toward it", () => {
    const d = detector({ consecutiveConnectFailures: 3, failureRateThreshold: 0 });
    d.recordFailure("a", "connect", T0);
    d.recordFailure("a", "connect", T0);
    d.recordSuccess("a", T0);
    d.recordFailure("a", "connect", T0);
    d.recordFailure("a", "call", T0);
    d.recordFailure("a", "connect", T0);
    expect(d.isEjected("a")).toBe(false);
    d.recordFailure("a", "connect", T0);
    expect(d.isEjected("a")).toBe(true);
  });

  test("unknown keys are ignored", () => {
    const d = detector({ consecutiveConnectFailures: 1 });
    expect(d.recordFailure("zzz", "connect", T0)).toBeUndefined();
    d.recordSuccess("zzz", T0);
    expect(d.ejectedCount()).toBe(0);
  });
});

describe("OutlierDetector: failure rate", () => {
  const rate = { consecutiveConnectFailures: 0, failureRateThreshold: 0.5, failureRateMinRequests: 20, failureRateWindowMs: 10_000 };

  test("needs the minimum sample count before it judges", () => {
    const d = detector(rate);
    for (let i = 0; i < 19; i++) d.recordFailure("a", "call", T0);
    expect(d.isEjected("a")).toBe(false);
    const e = d.recordFailure("a", "call", T0);
    expect(e).toMatchObject({ type: "ejected", reason: "failure_rate" });
  });

  test("ejects at the threshold, not below it", () => {
    const below = detector(rate);
    for (let i = 0; i < 11; i++) below.recordSuccess("a", T0);
    for (let i = 0; i < 9; i++) below.recordFailure("a", "call", T0);
    expect(below.isEjected("a")).toBe(false); // 9/20
    const at = detector(rate);
    for (let i = 0; i < 10; i++) at.recordSuccess("a", T0);
    for (let i = 0; i < 10; i++) at.recordFailure("a", "call", T0);
    expect(at.isEjected("a")).toBe(true); // 10/20
  });

  test("failures older than the window no longer count", () => {
    const d = detector(rate);
    for (let i = 0; i < 15; i++) d.recordFailure("a", "call", T0);
    for (let i = 0; i < 4; i++) d.recordFailure("a", "call", T0 + 10_000);
    expect(d.isEjected("a")).toBe(false);
    expect(d.stats("a", T0 + 10_000)).toMatchObject({ windowFailures: 4 });
  });
});

describe("OutlierDetector: ejection time", () => {
  const eject = (d: OutlierDetector, key: string, now: number) => d.recordFailure(key, "connect", now);

  test("grows by one base per repeated ejection and is capped", () => {
    const d = detector({ consecutiveConnectFailures: 1 });
    const durations: number[] = [];
    let now = T0;
    for (let i = 0; i < 7; i++) {
      const e = eject(d, "a", now);
      if (e?.type !== "ejected") throw new Error("expected ejection");
      durations.push(e.durationMs);
      now += e.durationMs;
      expect(d.returnDue(now - 1)).toEqual([]);
      expect(d.returnDue(now)).toEqual(["a"]);
    }
    expect(durations).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 5_000, 5_000]);
  });

  test("the multiplier decays one step per base period spent healthy", () => {
    const d = detector({ consecutiveConnectFailures: 1 });
    eject(d, "a", T0);
    d.returnDue(T0 + 1_000);
    eject(d, "a", T0 + 1_000);
    d.returnDue(T0 + 3_000); // multiplier 2, back at T0+3000
    expect(d.stats("a", T0 + 3_000)!.ejectionMultiplier).toBe(2);
    expect(d.stats("a", T0 + 4_000)!.ejectionMultiplier).toBe(1);
    expect(d.stats("a", T0 + 5_500)!.ejectionMultiplier).toBe(0);
    expect(eject(d, "a", T0 + 5_500)).toMatchObject({ durationMs: 1_000, multiplier: 1 });
  });

  test("a returned endpoint starts with clean counters; failures while ejected are ignored", () => {
    const d = detector({ consecutiveConnectFailures: 2, failureRateThreshold: 0 });
    eject(d, "a", T0);
    eject(d, "a", T0);
    expect(d.recordFailure("a", "connect", T0 + 10)).toBeUndefined();
    d.returnDue(T0 + 1_000);
    expect(d.stats("a", T0 + 1_000)).toMatchObject({ ejected: false, consecutiveConnectFailures: 0, windowFailures: 0 });
    eject(d, "a", T0 + 1_001);
    expect(d.isEjected("a")).toBe(false);
  });
});

describe("OutlierDetector: ejection cap", () => {
  test("maxEjected: rounded down share, at least one of two or more, never all, 0 disables", () => {
    const max = (n: number, pct: number) => {
      const d = new OutlierDetector({ maxEjectionPercent: pct });
      d.sync(Array.from({ length: n }, (_, i) => `e${i}`));
      return d.maxEjected();
    };
    expect(max(1, 50)).toBe(0);
    expect(max(2, 10)).toBe(1);
    expect(max(10, 50)).toBe(5);
    expect(max(10, 25)).toBe(2);
    expect(max(4, 100)).toBe(3);
    expect(max(10, 0)).toBe(0);
  });

  test("refused ejections are reported and counted, and retried on the next failure once there is room", () => {
    const d = detector({ consecutiveConnectFailures: 1, maxEjectionPercent: 25 });
    expect(d.recordFailure("a", "connect", T0)?.type).toBe("ejected");
    expect(d.recordFailure("b", "connect", T0)).toEqual({
      type: "ejection_skipped", key: "b", reason: "consecutive_connect_failures", ejected: 1, maxEjected: 1,
    });
    expect(d.skippedEjections).toBe(1);
    d.returnDue(T0 + 1_000);
    expect(d.recordFailure("b", "connect", T0 + 1_000)?.type).toBe("ejected");
  });

  test("sync forgets removed endpoints (and their ejections)", () => {
    const d = detector({ consecutiveConnectFailures: 1 });
    d.recordFailure("a", "connect", T0);
    d.sync(["b", "c"]);
    expect(d.ejectedCount()).toBe(0);
    expect(d.stats("a", T0)).toBeUndefined();
    expect(d.nextReturnAt()).toBeUndefined();
  });
});

describe("FailureWindow", () => {
  test("counts within the window and drops whole buckets as time passes", () => {
    const w = new FailureWindow(1_000, 10);
    w.add(true, 0);
    w.add(false, 50);
    w.add(false, 950);
    expect(w.counts(999)).toEqual({ successes: 1, failures: 2 });
    expect(w.counts(1_000)).toEqual({ successes: 0, failures: 1 });
    expect(w.counts(1_899)).toEqual({ successes: 0, failures: 1 });
    expect(w.counts(1_900)).toEqual({ successes: 0, failures: 0 });
    w.add(true, 5_000);
    w.reset();
    expect(w.counts(5_000)).toEqual({ successes: 0, failures: 0 });
  });

  test("a slot reused after a full turn starts from zero", () => {
    const w = new FailureWindow(1_000, 10);
    w.add(false, 100);
    w.add(true, 1_100); // same slot, next turn
    expect(w.counts(1_100)).toEqual({ successes: 1, failures: 0 });
  });
});
