import { describe, expect, test } from "bun:test";
import { createLogger, createRedactor, DEFAULT_REDACT_KEYS, parseLogLevel, REDACTED } from "./index.ts";

function capture() {
  const lines: string[] = [];
  return { lines, sink: (l: string) => void lines.push(l), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const fixedClock = { now: () => Date.UTC(2024, 0, 2, 3, 4, 5, 678) };
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz";

describe("JSON-lines logger", () => {
  test("one JSON object per line with time, level, msg and fields", () => {
    const c = capture();
    const log = createLogger({ sink: c.sink, clock: fixedClock });
    log.info("hello", { route: "/a", status: 200, ok: true });
    log.error("bad", { n: 1n });
    expect(c.lines.length).toBe(2);
    for (const l of c.lines) expect(l.includes("\n")).toBe(false);
    expect(c.parsed()[0]).toEqual({ time: "2024-01-02T03:04:05.678Z", level: "info", msg: "hello", route: "/a", status: 200, ok: true });
    expect(c.parsed()[1]).toEqual({ time: "2024-01-02T03:04:05.678Z", level: "error", msg: "bad", n: "1" });
  });

  test("levels filter", () => {
    const c = capture();
    const log = createLogger({ sink: c.sink, level: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(c.parsed().map((x) => x["level"])).toEqual(["warn", "error"]);
    expect(log.isEnabled("info")).toBe(false);
    expect(log.isEnabled("error")).toBe(true);
    const all = capture();
    createLogger({ sink: all.sink, level: "debug" }).debug("d");
    expect(all.lines.length).toBe(1);
    expect(parseLogLevel(" WARN ")).toBe("warn");
    expect(parseLogLevel("verbose")).toBeUndefined();
  });

  test("secrets are redacted by key (case/separator-insensitive, nested, Headers) and by value shape", () => {
    const c = capture();
    const log = createLogger({ sink: c.sink });
    const headers = new Headers({ Authorization: "Bearer abc", "X-Api-Key": "k", accept: "json" });
    log.info(`got ${JWT}`, {
      headers,
      req: { Cookie: "sid=1", nested: { client_secret: "s", upstreamToken: "t", db_password: "p", keep: "visible" } },
      access_token: "a",
      note: `Authorization: Bearer ${"z".repeat(20)}`,
      list: [{ password: "p" }, "plain"],
    });
    const line = c.lines[0]!;
    for (const secret of ["abc", "sid=1", `"s"`, `"t"`, `"p"`, `"a"`, "zzzz", "c2lnbmF0dXJl"]) expect(line).not.toContain(secret);
    const o = c.parsed()[0]!;
    expect(o["msg"]).toBe(`got ${REDACTED}`);
    expect(o["headers"]).toEqual({ authorization: REDACTED, "x-api-key": REDACTED, accept: "json" });
    expect(o["req"]).toEqual({
      Cookie: REDACTED,
      nested: { client_secret: REDACTED, upstreamToken: REDACTED, db_password: REDACTED, keep: "visible" },
    });
    expect(o["access_token"]).toBe(REDACTED);
    expect(o["note"]).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(o["list"]).toEqual([{ password: REDACTED }, "plain"]);
  });

  test("the key list is configurable", () => {
    const c = capture();
    const log = createLogger({ sink: c.sink, redactKeys: [...DEFAULT_REDACT_KEYS, "x-session", /^internal\./] });
    log.info("m", { "X-Session": "1", "internal.id": "2", authorization: "3", other: "4" });
    expect(c.parsed()[0]).toMatchObject({ "X-Session": REDACTED, "internal.id": REDACTED, authorization: REDACTED, other: "4" });
    const only = capture();
    createLogger({ sink: only.sink, redactKeys: ["pin"] }).info("m", { pin: "1", authorization: "kept" });
    expect(only.parsed()[0]).toMatchObject({ pin: REDACTED, authorization: "kept" });
  });

  test("child loggers bind fields; the parent is unchanged; bound secrets are redacted", () => {
    const c = capture();
    const root = createLogger({ sink: c.sink, fields: { service: "sluice" } });
    const req = root.child({ requestId: "r1", token: "secret-token" });
    const call = req.child({ upstream: "users" });
    call.info("call", { attempt: 2 });
    root.info("root");
    const [a, b] = c.parsed();
    expect(a).toMatchObject({ service: "sluice", requestId: "r1", token: REDACTED, upstream: "users", attempt: 2, msg: "call" });
    expect(b).toMatchObject({ service: "sluice", msg: "root" });
    expect(b!["requestId"]).toBeUndefined();
    expect(c.lines[0]).not.toContain("secret-token");
  });

  test("fields cannot overwrite time/level/msg", () => {
    const c = capture();
    createLogger({ sink: c.sink }).child({ msg: "bound" }).warn("real", { level: "fake", time: "t" });
    const o = c.parsed()[0]!;
    expect(o["level"]).toBe("warn");
    expect(o["msg"]).toBe("real");
    expect(o["_level"]).toBe("fake");
    expect(o["_msg"]).toBe("bound");
    expect(o["_time"]).toBe("t");
  });

  test("never throws: a broken sink and circular fields are tolerated", () => {
    const log = createLogger({
      sink: () => {
        throw new Error("disk full");
      },
    });
    expect(() => log.info("x")).not.toThrow();
    expect(log.droppedLines).toBe(1);

    const c = capture();
    const cyc: Record<string, unknown> = { a: 1 };
    cyc["self"] = cyc;
    createLogger({ sink: c.sink }).info("cyc", { cyc });
    expect(c.parsed()[0]!["cyc"]).toEqual({ a: 1, self: "[Circular]" });
  });

  test("errors serialize with name, message, reason and cause", () => {
    const c = capture();
    const e = Object.assign(new Error("upstream down", { cause: new TypeError("econnrefused") }), { reason: "upstream_connect_failed" });
    createLogger({ sink: c.sink }).error("fail", { err: e });
    const err = c.parsed()[0]!["err"] as Record<string, unknown>;
    expect(err["name"]).toBe("Error");
    expect(err["message"]).toBe("upstream down");
    expect(err["reason"]).toBe("upstream_connect_failed");
    expect((err["cause"] as Record<string, unknown>)["message"]).toBe("econnrefused");
    expect(typeof err["stack"]).toBe("string");
  });

  test("redactor keeps non-secret data intact and is depth-bounded", () => {
    const r = createRedactor({ maxDepth: 2 });
    expect(r({ a: { b: { c: 1 } }, d: [1, "x"] })).toEqual({ a: { b: "[Depth]" }, d: [1, "x"] });
    expect(r("short")).toBe("short");
    expect(createRedactor({ maskValues: false })(`x ${JWT}`)).toBe(`x ${JWT}`);
  });
});
