import { describe, expect, test } from "bun:test";
import { ep, okKey, seeded } from "./balancer.case.ts";
import { createLeastRequestPicker } from "./least-request.ts";

function shares(pick: () => string, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = pick();
    m.set(k, (m.get(k) ?? 0) + 1 / n);
  }
  return m;
}

describe("least-request (power of two choices)", () => {
  test("of two endpoints, the idle one wins whenever it is drawn: 3/4 of picks", () => {
    const p = createLeastRequestPicker([ep("busy", 1, 10), ep("idle", 1, 0)], seeded(7));
    const s = shares(() => okKey(p.pick()), 40_000);
    expect(s.get("idle")!).toBeCloseTo(0.75, 1);
    expect(Math.abs(s.get("idle")! - 0.75)).toBeLessThan(0.02);
  });

  test("the most loaded of many is picked only when drawn twice", () => {
    const list = Array.from({ length: 10 }, (_, i) => ep(`e${i}`, 1, i));
    const p = createLeastRequestPicker(list, seeded(9));
    const s = shares(() => okKey(p.pick()), 50_000);
    // P(e9) = (1/10)^2 = 1%, P(e0) = 1 - (9/10)^2 = 19%, against 10% each for a uniform draw.
    expect(Math.abs((s.get("e9") ?? 0) - 0.01)).toBeLessThan(0.005);
    expect(Math.abs((s.get("e0") ?? 0) - 0.19)).toBeLessThan(0.01);
  });

  test("load is read at pick time, so one snapshot follows changing in-flight counts", () => {
    const a = ep("a", 1, 0);
    const b = ep("b", 1, 0);
    const p = createLeastRequestPicker([a, b], seeded(11));
    a.load = 100;
    const first = shares(() => okKey(p.pick()), 10_000);
    a.load = 0;
    b.load = 100;
    const second = shares(() => okKey(p.pick()), 10_000);
    expect(first.get("b")!).toBeGreaterThan(0.7);
    expect(second.get("a")!).toBeGreaterThan(0.7);
  });

  test("a single endpoint is returned without drawing", () => {
    let draws = 0;
    const p = createLeastRequestPicker([ep("only")], () => (draws++, 0.5));
    expect(okKey(p.pick())).toBe("only");
    expect(draws).toBe(0);
  });
});
