import { describe, expect, test } from "bun:test";
import { createLogger, createRedactor, type LogFields } from "./index.ts";

// The line as the logger wrote it before the hand-built path: a redacted copy of every part merged into
// one object (reserved keys renamed), then JSON.stringify. The logger must write exactly this text.
const RESERVED = new Set(["time", "level", "msg"]);
function referenceLine(time: string, level: string, msg: string, bound: LogFields | undefined, fields: LogFields | undefined): string {
  const redact = createRedactor();
  const line: Record<string, unknown> = { time, level, msg: redact(msg) };
  const assign = (f: Record<string, unknown>) => {
    for (const k in f) line[RESERVED.has(k) ? `_${k}` : k] = f[k];
  };
  if (bound !== undefined) assign(redact(bound) as Record<string, unknown>);
  if (fields !== undefined) {
    const r = redact(fields);
    assign(typeof r === "object" && r !== null ? (r as Record<string, unknown>) : {});
  }
  return JSON.stringify(line);
}

const clock = { now: () => Date.UTC(2025, 4, 6, 7, 8, 9, 10) };
const TIME = "2025-05-06T07:08:09.010Z";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz";

function written(msg: string, fields: LogFields | undefined, bound?: LogFields): string {
  const lines: string[] = [];
  const root = createLogger({ sink: (l) => void lines.push(l), clock });
  (bound === undefined ? root : root.child(bound)).info(msg, fields);
  expect(lines.length).toBe(1);
  return lines[0]!;
}

const tricky: Record<string, LogFields> = {
  "access-log shaped": {
    request_id: "5f0c2a8e-1b7d-4c1e-9a57-0d1f2e3c4b5a", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7",
    method: "POST", path: "/v1/echo", route: "demo.v1.EchoService/Echo", status: 200, code: "OK", outcome: "ok",
    duration_ms: 1.234, bytes_out: 30, upstream: "demo", upstream_ms: 0.987, bytes_in: 28, client_gone: true,
  },
  quotes: { a: 'say "hi"', b: "back\\slash", c: "'single'" },
  unicode: { a: "héllo wörld", b: "日本語のパス", c: "emoji 🚀 ok", d: "\u2028line\u2029sep", e: "zero\u200bwidth" },
  "control chars": { a: "tab\there", b: "new\nline", c: "nul\u0000byte", d: "\u001b[31mred\u001b[0m", e: "\r\f\b\u007f" },
  "lone surrogates": { a: "bad \ud800 high", b: "bad \udc00 low", c: "\udfff" },
  numbers: { a: 0, b: -0, c: 1e21, d: 1e-7, e: Number.NaN, f: Number.POSITIVE_INFINITY, g: -1.5, h: Number.MAX_SAFE_INTEGER, i: 0.1 + 0.2 },
  "other primitives": { a: true, b: false, c: null, d: undefined, e: 12345678901234567890n, f: () => 1, g: Symbol("s") },
  "secrets by value": { path: `/v1/token/${JWT}`, note: `Authorization: Bearer ${"z".repeat(20)}`, basic: "header basic dXNlcjpwYXNz", short: "eyJ" },
  "secrets by key": { authorization: "Bearer x", access_token: "t", upstreamToken: undefined, "X-Api-Key": 42, db_password: null },
  "reserved keys": { time: "t", level: "fake", msg: "m", other: 1 },
  "renamed reserved and its twin": { _time: 1, time: 2 },
  "digit keys": { b: 1, "2": "two", "1": "one", a: 0 },
  "digit-led non-index key": { "01": "x", "9lives": true, z: 1 },
  "nested objects": { a: { b: [1, "x", { token: "t" }] }, c: new Date(0), e: new Uint8Array(3), h: new Headers({ cookie: "c", accept: "a" }) },
  "error value": { error: new Error("boom") },
  "weird keys": { 'quote"key': 1, "back\\key": 2, "ünï": 3, "": 4, "line\nbreak": 5 },
  empty: {},
};

describe("hand-built log lines equal the general path's text", () => {
  for (const [name, fields] of Object.entries(tricky)) {
    test(name, () => {
      const line = written("request", fields);
      expect(line).toBe(referenceLine(TIME, "info", "request", undefined, fields));
      expect(() => JSON.parse(line)).not.toThrow();
    });
  }

  test("no fields; messages with secrets, quotes and control chars", () => {
    for (const msg of ["request", "", 'say "hi"\n', `got ${JWT}`, "Bearer abcdefghijkl", "héllo \u2028 \ud800"]) {
      expect(written(msg, undefined)).toBe(referenceLine(TIME, "info", msg, undefined, undefined));
    }
  });

  test("bound fields: merged, renamed, collisions keep the general path's order and values", () => {
    const cases: [LogFields, LogFields][] = [
      [{ service: "sluice" }, { a: 1 }],
      [{ service: "sluice", token: "secret" }, { token: "x", other: "y" }],
      [{ msg: "bound", a: 1 }, { a: 2, b: 3 }],
      [{ a: 1 }, { a: undefined, b: 2 }],
      [{ "3": "digit" }, { a: 1 }],
      [{ nested: { cookie: "c", keep: 1 } }, { path: `/x/${JWT}` }],
    ];
    for (const [bound, fields] of cases) {
      expect(written("m", fields, bound)).toBe(referenceLine(TIME, "info", "m", bound, fields));
    }
  });

  test("a field object that is not plain goes the general path", () => {
    class Fields {
      readonly a = 1;
      readonly token = "t";
    }
    const f = new Fields() as unknown as LogFields;
    expect(written("m", f)).toBe(referenceLine(TIME, "info", "m", undefined, f));
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: "x", b: 2 });
    expect(written("m", nullProto)).toBe(referenceLine(TIME, "info", "m", undefined, nullProto));
  });

  test("lines in the same millisecond and in the next carry their own time", () => {
    let now = Date.UTC(2025, 0, 1, 0, 0, 0, 999);
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => void lines.push(l), clock: { now: () => now } });
    log.info("a");
    log.info("b");
    now++;
    log.info("c");
    expect(lines.map((l) => (JSON.parse(l) as { time: string }).time)).toEqual(["2025-01-01T00:00:00.999Z", "2025-01-01T00:00:00.999Z", "2025-01-01T00:00:01.000Z"]);
  });

  test("an invalid clock value drops the line, as before", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => void lines.push(l), clock: { now: () => Number.NaN } });
    log.info("x", { a: 1 });
    expect(lines.length).toBe(0);
    expect(log.droppedLines).toBe(1);
  });
});

describe("line writers (fixed keys) write what logger[level](msg, fields) writes", () => {
  const keys = ["request_id", "path", "status", "token", "ok", "big", "gone", "obj"];
  const rows: unknown[][] = [
    ["r1", "/v1/echo", 200, "secret", true, 1n, undefined, undefined],
    ['r"2', `/v1/token/${JWT}`, 503, undefined, false, undefined, undefined, undefined],
    ["r3", "日本 \u2028 \ud800", Number.NaN, null, null, -0, "x", undefined],
    ["r4", "/nested", 200, "t", true, undefined, undefined, { cookie: "c", a: [1, 2] }],
    [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined],
  ];
  const fieldsOf = (ks: readonly string[], values: readonly unknown[]) => {
    const f: Record<string, unknown> = {};
    ks.forEach((k, i) => (f[k] = values[i]));
    return f;
  };

  function both(ks: readonly string[], values: readonly unknown[], level: "debug" | "info" | "warn" | "error", bound?: LogFields) {
    const out: string[][] = [[], []];
    const make = (i: number) => {
      const root = createLogger({ sink: (l) => void out[i]!.push(l), clock, level: "info" });
      return bound === undefined ? root : root.child(bound);
    };
    make(0)[level]("request", fieldsOf(ks, values));
    make(1).lineWriter("request", ks)(level, values);
    return out;
  }

  test("plain, secret, unicode, JWT, undefined and nested values", () => {
    for (const values of rows) {
      const [viaFields, viaWriter] = both(keys, values, "info");
      expect(viaWriter).toEqual(viaFields!);
      expect(viaWriter!.length).toBe(1);
    }
  });

  test("levels below the logger's are not written; warn and error are", () => {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      const [viaFields, viaWriter] = both(keys, rows[0]!, level);
      expect(viaWriter).toEqual(viaFields!);
      expect(viaWriter!.length).toBe(level === "debug" ? 0 : 1);
    }
  });

  test("keys the hand-built path cannot take (reserved, digits, bound collisions, repeats) go the general way", () => {
    const cases: [string[], unknown[], LogFields | undefined][] = [
      [["msg", "a"], ["m", 1], undefined],
      [["2", "a"], ["two", 1], undefined],
      [["service", "a"], ["override", 1], { service: "sluice" }],
      [["a", "b"], [1, 2], { service: "sluice", token: "t" }],
      [["a", "a"], [1, 2], undefined],
    ];
    for (const [ks, values, bound] of cases) {
      const [viaFields, viaWriter] = both(ks, values, "info", bound);
      expect(viaWriter).toEqual(viaFields!);
    }
  });
});
