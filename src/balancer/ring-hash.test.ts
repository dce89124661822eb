import { describe, expect, test } from "bun:test";
import { ep, okKey } from "./balancer.case.ts";
import { createRingHashPicker } from "./ring-hash.ts";
import type { TestEndpoint } from "./balancer.case.ts";

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
const hosts = (n: number, from = 1) => Array.from({ length: n }, (_, i) => ep(`10.0.0.${from + i}:80`));

function mapping(list: TestEndpoint[]): Map<string, string> {
  const p = createRingHashPicker(list);
  return new Map(KEYS.map((k) => [k, okKey(p.pick({ hashKey: k }))]));
}

function moved(a: Map<string, string>, b: Map<string, string>): string[] {
  return KEYS.filter((k) => a.get(k) !== b.get(k));
}

describe("ring hash", () => {
  test("the same key always lands on the same endpoint, whatever the input order", () => {
    const list = hosts(5);
    const a = mapping(list);
    const b = mapping([...list].reverse());
    expect(moved(a, b)).toEqual([]);
    const p = createRingHashPicker(list);
    expect(okKey(p.pick({ hashKey: "user-1" }))).toBe(a.get("user-1")!);
  });

  test("adding an endpoint moves only keys onto it, about 1/(n+1) of them", () => {
    const before = mapping(hosts(5));
    const after = mapping(hosts(6));
    const m = moved(before, after);
    expect(m.every((k) => after.get(k) === "10.0.0.6:80")).toBe(true);
    expect(m.length / KEYS.length).toBeGreaterThan(0.1);
    expect(m.length / KEYS.length).toBeLessThan(0.25);
  });

  test("removing an endpoint moves only the keys it had", () => {
    const before = mapping(hosts(6));
    const list = hosts(6).filter((e) => e.key !== "10.0.0.3:80");
    const after = mapping(list);
    const m = moved(before, after);
    expect(m.length).toBeGreaterThan(0);
    expect(m.every((k) => before.get(k) === "10.0.0.3:80")).toBe(true);
    expect(KEYS.filter((k) => before.get(k) === "10.0.0.3:80").length).toBe(m.length);
  });

  test("raising one endpoint's weight moves keys only onto that endpoint", () => {
    const before = mapping(hosts(4));
    const after = mapping([...hosts(3), ep("10.0.0.4:80", 2)]);
    const m = moved(before, after);
    expect(m.length).toBeGreaterThan(0);
    expect(m.every((k) => after.get(k) === "10.0.0.4:80")).toBe(true);
  });

  test("weights set the number of ring points", () => {
    const p = createRingHashPicker([ep("a:1", 1), ep("b:1", 3)], { pointsPerWeight: 512 });
    const onB = KEYS.filter((k) => okKey(p.pick({ hashKey: k })) === "b:1").length / KEYS.length;
    expect(Math.abs(onB - 0.75)).toBeLessThan(0.05);
  });

  test("picks without a key are spread at random", () => {
    const p = createRingHashPicker(hosts(3), {}, () => 0.999_999);
    const q = createRingHashPicker(hosts(3), {}, () => 0);
    // random()=0 and random()~1 both land at the wrap-around point: the first point of the ring.
    expect(okKey(p.pick())).toBe(okKey(q.pick()));
    let i = 0;
    const r = createRingHashPicker(hosts(3), {}, () => ((i = (i + 0.137) % 1), i));
    expect(new Set(Array.from({ length: 100 }, () => okKey(r.pick()))).size).toBe(3);
  });

  test("huge weights are capped per endpoint", () => {
    const p = createRingHashPicker([ep("a:1", 1_000_000), ep("b:1", 1)], { maxPointsPerEndpoint: 1_000 });
    expect(p.endpoints.length).toBe(2);
    const onB = KEYS.filter((k) => okKey(p.pick({ hashKey: k })) === "b:1").length / KEYS.length;
    expect(onB).toBeGreaterThan(0.1);
  });
});
