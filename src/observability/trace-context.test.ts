import { describe, expect, test } from "bun:test";
import {
  childContext,
  continueTrace,
  formatTraceparent,
  isSampled,
  newRootContext,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseTracestate,
  setTracestateEntry,
  TraceFlags,
} from "./index.ts";

// Examples from W3C Trace Context §3.2.2.
const TID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PID = "00f067aa0ba902b7";
const VALID = `00-${TID}-${PID}-01`;

describe("traceparent parsing", () => {
  test("the spec example parses", () => {
    const r = parseTraceparent(VALID);
    expect(r).toEqual({ ok: true, value: { version: 0, traceId: TID, parentId: PID, flags: 1 } });
  });

  test("not-sampled flags and surrounding OWS", () => {
    const r = parseTraceparent(` \t00-${TID}-${PID}-00\t `);
    expect(r.ok && r.value.flags).toBe(0);
  });

  test("unknown flag bits are cleared for version 00; sampled and random are kept", () => {
    const r = parseTraceparent(`00-${TID}-${PID}-ff`);
    expect(r.ok && r.value.flags).toBe(TraceFlags.sampled | TraceFlags.random);
  });

  test("future versions: longer header with '-' after flags is accepted, only sampled kept (§3.2.4)", () => {
    const r = parseTraceparent(`cc-${TID}-${PID}-03-what-the-future-will-be-like`);
    expect(r).toEqual({ ok: true, value: { version: 0xcc, traceId: TID, parentId: PID, flags: 1 } });
    const exact = parseTraceparent(`01-${TID}-${PID}-00`);
    expect(exact.ok && exact.value.version).toBe(1);
  });

  const invalid: [string, string | undefined | null][] = [
    ["missing", undefined],
    ["null", null],
    ["empty", ""],
    ["version ff", `ff-${TID}-${PID}-01`],
    ["version 00 with trailing data", `00-${TID}-${PID}-01-extra`],
    ["version 00 with one trailing char", `00-${TID}-${PID}-010`],
    ["future version with non-dash after flags", `cc-${TID}-${PID}-01.what`],
    ["non-hex version", `0g-${TID}-${PID}-01`],
    ["uppercase version", `0A-${TID}-${PID}-01`],
    ["uppercase trace-id", `00-${TID.toUpperCase()}-${PID}-01`],
    ["uppercase parent-id", `00-${TID}-00F067AA0BA902B7-01`],
    ["all-zero trace-id", `00-${"0".repeat(32)}-${PID}-01`],
    ["all-zero parent-id", `00-${TID}-${"0".repeat(16)}-01`],
    ["short trace-id", `00-${TID.slice(1)}-${PID}-01`],
    ["long trace-id", `00-${TID}0-${PID}-01`],
    ["short parent-id", `00-${TID}-${PID.slice(1)}-01`],
    ["non-hex trace-id", `00-${TID.slice(0, -1)}g-${PID}-01`],
    ["non-hex parent-id", `00-${TID}-${PID.slice(0, -1)}z-01`],
    ["non-hex flags", `00-${TID}-${PID}-0x`],
    ["one-char flags", `00-${TID}-${PID}-1`],
    ["wrong delimiter", `00_${TID}_${PID}_01`],
    ["two headers combined", `${VALID}, ${VALID}`],
    ["future version too short", `cc-${TID}-${PID}-0`],
  ];
  for (const [name, value] of invalid) {
    test(`rejects: ${name}`, () => {
      expect(parseTraceparent(value).ok).toBe(false);
    });
  }
});

describe("span contexts", () => {
  test("ids are lowercase hex of the right length, random and non-zero", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      expect(t).not.toBe("0".repeat(32));
      seen.add(t);
    }
    expect(seen.size).toBe(50);
  });

  test("ids stay well-formed and distinct across refills of the random byte pool", () => {
    // 3000 x (16 + 8) bytes: the 4 KiB pool is refilled ~17 times, at every offset alignment.
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t.length).toBe(32);
      expect(s.length).toBe(16);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(3000);
    expect(spans.size).toBe(3000);
    for (const t of traces) expect(t).toMatch(/^[0-9a-f]{32}$/);
  });

  test("a new root is sampled by default, random flag set, and formats to a parseable traceparent", () => {
    const root = newRootContext();
    expect(root.parentSpanId).toBeUndefined();
    expect(isSampled(root)).toBe(true);
    expect(root.flags & TraceFlags.random).toBe(TraceFlags.random);
    const header = formatTraceparent(root);
    expect(header).toBe(`00-${root.traceId}-${root.spanId}-03`);
    const back = parseTraceparent(header);
    expect(back.ok && back.value.traceId).toBe(root.traceId);
    expect(back.ok && back.value.parentId).toBe(root.spanId);
    expect(isSampled(newRootContext({ sampled: false }))).toBe(false);
  });

  test("a child keeps the trace id, flags and tracestate and gets a new span id", () => {
    const root = newRootContext({ traceState: "rojo=00f067aa0ba902b7" });
    const child = childContext(root);
    expect(child.traceId).toBe(root.traceId);
    expect(child.spanId).not.toBe(root.spanId);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.parentSpanId).toBe(root.spanId);
    expect(child.flags).toBe(root.flags);
    expect(child.traceState).toBe("rojo=00f067aa0ba902b7");
    const grandchild = childContext(child);
    expect(grandchild.traceId).toBe(root.traceId);
    expect(grandchild.parentSpanId).toBe(child.spanId);
  });

  test("continueTrace: valid incoming -> child of the caller, tracestate validated", () => {
    const ctx = continueTrace(VALID, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
    expect(ctx.traceId).toBe(TID);
    expect(ctx.parentSpanId).toBe(PID);
    expect(ctx.spanId).not.toBe(PID);
    expect(ctx.flags).toBe(1);
    expect(ctx.traceState).toBe("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(formatTraceparent(ctx)).toBe(`00-${TID}-${ctx.spanId}-01`);
  });

  test("continueTrace: invalid incoming -> new root, tracestate ignored", () => {
    const ctx = continueTrace(`00-${"0".repeat(32)}-${PID}-01`, "rojo=1");
    expect(ctx.traceId).not.toBe("0".repeat(32));
    expect(ctx.parentSpanId).toBeUndefined();
    expect(ctx.traceState).toBeUndefined();
    expect(isSampled(continueTrace(undefined, undefined, { sampleRoot: false }))).toBe(false);
  });
});

describe("tracestate", () => {
  test("valid lists pass through normalized (OWS and empty members dropped)", () => {
    expect(parseTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    expect(parseTracestate(" rojo=1 ,\t, congo=2 ")).toBe("rojo=1,congo=2");
    expect(parseTracestate("fw529a3039@dt=abc,a*b/c_d-e=x y")).toBe("fw529a3039@dt=abc,a*b/c_d-e=x y");
  });

  const invalid: [string, string][] = [
    ["uppercase key", "Rojo=1"],
    ["key starting with a digit (not multi-tenant)", "1rojo=1"],
    ["missing '='", "rojo"],
    ["empty key", "=1"],
    ["empty value", "rojo="],
    ["'=' in value", "rojo=a=b"],
    ["non-printable in value", "rojo=a\u0001b"],
    ["system-id too long", `t@${"a".repeat(15)}=1`],
    ["tenant-id too long", `${"a".repeat(242)}@sys=1`],
    ["duplicate keys", "rojo=1,congo=2,rojo=3"],
  ];
  for (const [name, value] of invalid) {
    test(`drops: ${name}`, () => {
      expect(parseTracestate(value)).toBeUndefined();
    });
  }

  test("32 members pass; 33 make the header invalid", () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(",");
    expect(parseTracestate(members(32))).toBe(members(32));
    expect(parseTracestate(members(33))).toBeUndefined();
  });

  test("over maxLength: entries > 128 chars go first, then entries from the right", () => {
    const big = `big=${"x".repeat(200)}`;
    const small = Array.from({ length: 5 }, (_, i) => `s${i}=${"y".repeat(60)}`); // 63 chars each
    const header = [small[0], big, ...small.slice(1)].join(",");
    const out = parseTracestate(header, { maxLength: 512 })!;
    expect(out).toBe(small.join(",")); // 5*63+4 = 319 <= 512, big removed
    const tight = parseTracestate(small.join(","), { maxLength: 200 })!;
    expect(tight).toBe(small.slice(0, 3).join(",")); // 3*63+2 = 191
    expect(tight.length).toBeLessThanOrEqual(200);
  });

  test("setTracestateEntry puts our (updated) entry first", () => {
    expect(setTracestateEntry("rojo=1,sluice=old,congo=2", "sluice", "new")).toBe("sluice=new,rojo=1,congo=2");
    expect(setTracestateEntry(undefined, "sluice", "v")).toBe("sluice=v");
    expect(() => setTracestateEntry(undefined, "Bad", "v")).toThrow();
  });
});
