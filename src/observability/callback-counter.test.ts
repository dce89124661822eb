import { describe, expect, test } from "bun:test";
import { CallbackCounter } from "./callback-counter.ts";
import { MetricsRegistry } from "./registry.ts";

describe("CallbackCounter", () => {
  test("reports totals from the callback, summing equal label sets", () => {
    const src = [
      { upstream: "a", opened: 2 },
      { upstream: "a", opened: 3 },
      { upstream: "b", opened: 1 },
    ];
    const r = new MetricsRegistry();
    r.register(new CallbackCounter<"upstream">({ name: "x_opened_total", help: "Opened.", labelNames: ["upstream"], collect: (add) => src.forEach((s) => add({ upstream: s.upstream }, s.opened)) }));
    expect(r.render()).toBe('# HELP x_opened_total Opened.\n# TYPE x_opened_total counter\nx_opened_total{upstream="a"} 5\nx_opened_total{upstream="b"} 1\n');
    src.push({ upstream: "c", opened: 7 });
    expect(r.render()).toContain('x_opened_total{upstream="c"} 7');
  });

  test("a throwing source keeps the previous values", () => {
    let fail = false;
    const c = new CallbackCounter({ name: "y_total", help: "Y.", collect: (add) => {
      if (fail) throw new Error("source gone");
      add({}, 4);
    } });
    expect(c.snapshot().series).toEqual([{ values: [], value: 4 }]);
    fail = true;
    expect(c.snapshot().series).toEqual([{ values: [], value: 4 }]);
  });

  test("names are validated like other metrics", () => {
    expect(() => new CallbackCounter({ name: "bad name", help: "", collect: () => {} })).toThrow();
  });
});
