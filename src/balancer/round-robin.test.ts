import { describe, expect, test } from "bun:test";
import { ep, okKey } from "./balancer.case.ts";
import { createRoundRobinPicker } from "./round-robin.ts";

const zero = () => 0;

describe("smooth weighted round-robin", () => {
  test("weights 5:1:1 interleave as nginx does: a a b a c a a", () => {
    const p = createRoundRobinPicker([ep("a", 5), ep("b", 1), ep("c", 1)], zero);
    const seq = Array.from({ length: 14 }, () => okKey(p.pick()));
    expect(seq.join(" ")).toBe("a a b a c a a a a b a c a a");
  });

  test("every endpoint stays within one pick of its weighted share at every point in the sequence", () => {
    // Naive weighted RR (a x50, then b, c, d) is 2.8 picks ahead for a after 50 picks.
    for (const weights of [[50, 1, 1, 1], [7, 3, 2], [1, 2, 3, 4, 5, 6], [13, 13, 1]]) {
      const total = weights.reduce((x, y) => x + y, 0);
      const p = createRoundRobinPicker(weights.map((w, i) => ep(`e${i}`, w)), zero);
      const counts = weights.map(() => 0);
      let worst = 0;
      for (let t = 1; t <= total * 3; t++) {
        counts[Number(okKey(p.pick()).slice(1))]!++;
        weights.forEach((w, i) => (worst = Math.max(worst, Math.abs(counts[i]! - (t * w) / total))));
      }
      expect(worst).toBeLessThan(1);
      expect(counts).toEqual(weights.map((w) => w * 3));
    }
  });

  test("equal weights cycle strictly, starting at a random offset", () => {
    const keys = ["a", "b", "c", "d"].map((k) => ep(k));
    const p = createRoundRobinPicker(keys, () => 0.5);
    expect(Array.from({ length: 8 }, () => okKey(p.pick())).join("")).toBe("cdabcdab");
    const q = createRoundRobinPicker(keys, zero);
    expect(Array.from({ length: 4 }, () => okKey(q.pick())).join("")).toBe("abcd");
  });

  test("fractional weights work", () => {
    const p = createRoundRobinPicker([ep("a", 0.5), ep("b", 1.5)], zero);
    const seq = Array.from({ length: 400 }, () => okKey(p.pick()));
    expect(seq.filter((k) => k === "a").length).toBe(100);
  });

  test("the snapshot does not change when the caller's array does", () => {
    const list = [ep("a"), ep("b")];
    const p = createRoundRobinPicker(list, zero);
    list.push(ep("c"));
    expect(new Set(Array.from({ length: 6 }, () => okKey(p.pick())))).toEqual(new Set(["a", "b"]));
    expect(Object.isFrozen(p.endpoints)).toBe(true);
  });
});
