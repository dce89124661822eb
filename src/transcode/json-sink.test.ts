// The sink's number printing must match Number::toString (what JSON.stringify prints) exactly.
import { describe, expect, test } from "bun:test";
import { JsonSink } from "./json-sink.ts";
import { rng } from "./random-messages.case.ts";

const dec = new TextDecoder();
function printed(write: (s: JsonSink) => void): string {
  const s = new JsonSink(8);
  write(s);
  return dec.decode(s.result());
}

describe("JsonSink numbers", () => {
  test("int: every digit count, both signs, int32 extremes", () => {
    const values = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 99999, 100000, 1234567, 99999999, 100000000, 999999999, 1000000000, 2147483647, -1, -10, -2147483647, -2147483648];
    for (const v of values) expect(printed((s) => s.int(v))).toBe(String(v));
    const r = rng(7);
    for (let i = 0; i < 20000; i++) {
      const v = Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 32)));
      expect(printed((s) => s.int(v))).toBe(String(v));
    }
  });

  test("uint53: up to 2^53 - 1", () => {
    const r = rng(8);
    for (const v of [2147483648, 999999999999, 1000000000000, 1763709660000, 9007199254740991, 4294967296, 1e15]) expect(printed((s) => s.uint53(v))).toBe(String(v));
    for (let i = 0; i < 20000; i++) {
      const v = Math.floor(r() * 2 ** Math.floor(r() * 53));
      expect(printed((s) => s.uint53(v))).toBe(String(v));
    }
  });

  test("double: prices, volumes and arbitrary doubles print as String(v)", () => {
    const r = rng(9);
    const fixed = [0.1, 0.2, 0.3, 1.5, -2.25, 0.000001, 0.0000015, 0.00000123, 1e-7, 123.456, 9999999.99999999, 9999999.999999999, 1664.04, 139.271365, 232270.9751, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 1e21, 1.0000000000000002, 12345678.9, Math.PI, -Math.E];
    for (const v of fixed) expect(printed((s) => s.double(v))).toBe(String(v));
    for (let i = 0; i < 200000; i++) {
      const decimals = Math.floor(r() * 10);
      const scale = 10 ** Math.floor(r() * 9);
      let v = Math.round((r() - 0.5) * scale * 10 ** decimals) / 10 ** decimals;
      if (i % 3 === 0) v = (r() - 0.5) * scale; // full-precision doubles
      if (i % 7 === 0) v = Math.fround(v); // float32 values widened
      expect(printed((s) => s.double(v))).toBe(String(v));
    }
  });
});
