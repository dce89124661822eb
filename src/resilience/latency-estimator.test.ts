import { describe, expect, test } from "bun:test";
import { LatencyEstimator } from "./latency-estimator.ts";

describe("LatencyEstimator", () => {
  test("undefined until minSamples, then nearest-rank quantiles", () => {
    const e = new LatencyEstimator({ minSamples: 5, refreshEvery: 1 });
    for (const v of [50, 10, 40, 20]) e.record(v);
    expect(e.quantile(0.5)).toBeUndefined();
    e.record(30);
    expect(e.quantile(0.5)).toBe(30);
    expect(e.quantile(1)).toBe(50);
    expect(e.quantile(0)).toBe(10);
  });

  test("keeps only the last `window` samples", () => {
    const e = new LatencyEstimator({ window: 10, minSamples: 1, refreshEvery: 1 });
    for (let i = 0; i < 10; i++) e.record(1000);
    for (let i = 0; i < 10; i++) e.record(1);
    expect(e.count).toBe(10);
    expect(e.quantile(0.99)).toBe(1);
  });

  test("ignores invalid samples", () => {
    const e = new LatencyEstimator({ minSamples: 1 });
    e.record(-1);
    e.record(Number.NaN);
    e.record(Infinity);
    expect(e.count).toBe(0);
  });

  test("the snapshot refreshes after refreshEvery samples", () => {
    const e = new LatencyEstimator({ window: 4, minSamples: 1, refreshEvery: 4 });
    e.record(10);
    expect(e.quantile(1)).toBe(10);
    for (let i = 0; i < 3; i++) e.record(99);
    expect(e.quantile(1)).toBe(10); // stale until 4 new samples
    e.record(99);
    expect(e.quantile(1)).toBe(99);
  });
});
