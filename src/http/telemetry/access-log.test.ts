import { describe, expect, test } from "bun:test";
import { createLogger, type LogLevelName } from "../../observability/index.ts";
import { accessLogFields, accessLogLevel, createAccessLog } from "./access-log.ts";
import type { RequestRecord } from "./request-record.ts";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz";

const base: RequestRecord = {
  requestId: "5f0c2a8e-1b7d-4c1e-9a57-0d1f2e3c4b5a",
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: 3,
  httpMethod: "POST",
  path: "/v1/echo",
  route: "demo.v1.EchoService/Echo",
  upstream: "demo",
  status: 200,
  code: "OK",
  outcome: "ok",
  upstreamCalled: true,
  startMs: 1_700_000_000_000,
  durationMs: 1.23456789,
  upstreamStartMs: 1_700_000_000_000.2,
  upstreamMs: 0.987654,
  bytesIn: 28,
  bytesOut: 30,
  clientGone: false,
  admin: false,
};

const records: RequestRecord[] = [
  base,
  { ...base, requestId: 'client "id" \\ with quotes', path: "/v1/ünïcode/日本/\u2028", bytesIn: undefined, upstream: undefined, upstreamMs: undefined },
  { ...base, path: `/v1/token/${JWT}`, requestId: "Bearer abcdefghijklmnop" },
  { ...base, status: 503, code: "UNAVAILABLE", outcome: "system_error", reason: "upstream_unavailable", endpoint: "10.0.0.1:50051", clientGone: true },
  { ...base, status: 422, code: "UNKNOWN", outcome: "business_error", bizStatus: 1001, auth: "ok" },
  { ...base, status: 401, code: "UNAUTHENTICATED", outcome: "system_error", auth: "invalid_token", upstreamCalled: false },
  { ...base, admin: true, route: "/healthz", path: "/healthz", upstream: undefined },
  { ...base, durationMs: Number.NaN, bytesOut: 0 },
];

function lines(level: LogLevelName, write: (log: ReturnType<typeof createLogger>) => void): string[] {
  const out: string[] = [];
  const log = createLogger({ sink: (l) => void out.push(l), level, clock: { now: () => 1_700_000_000_123 } });
  write(log);
  return out;
}

describe("access log", () => {
  for (const level of ["debug", "info"] as const) {
    test(`createAccessLog writes exactly logger[level]("request", accessLogFields(r)) (logger at ${level})`, () => {
      const reference = lines(level, (log) => {
        for (const r of records) {
          const l = accessLogLevel(r);
          if (log.isEnabled(l)) log[l]("request", accessLogFields(r));
        }
      });
      const written = lines(level, (log) => {
        const write = createAccessLog(log);
        for (const r of records) write(r);
      });
      expect(written).toEqual(reference);
      // Admin probes only at debug.
      expect(written.length).toBe(level === "debug" ? records.length : records.length - 1);
      for (const l of written) expect(() => JSON.parse(l)).not.toThrow();
      expect(written.join("\n")).not.toContain("c2lnbmF0dXJl");
    });
  }

  test("a logger that redacts an access log key redacts it here too", () => {
    const out: string[] = [];
    const log = createLogger({ sink: (l) => void out.push(l), redactKeys: ["path", "request-id"] });
    createAccessLog(log)(base);
    const o = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(o["path"]).toBe("[REDACTED]");
    expect(o["request_id"]).toBe("[REDACTED]");
    expect(o["route"]).toBe("demo.v1.EchoService/Echo");
  });
});
