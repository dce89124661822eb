// One JSON line per request. Fields are fixed and snake_case so log queries stay stable; no headers,
// no query strings, no bodies (nothing that could carry a secret).
import type { Logger, LogLevelName } from "../../observability/index.ts";
import type { RequestRecord } from "./request-record.ts";

export function accessLogFields(r: RequestRecord): Record<string, unknown> {
  const f: Record<string, unknown> = {
    request_id: r.requestId,
    trace_id: r.traceId,
    span_id: r.spanId,
    method: r.httpMethod,
    path: r.path,
    route: r.route,
    status: r.status,
    code: r.code,
    outcome: r.outcome,
    duration_ms: round(r.durationMs),
    bytes_out: r.bytesOut,
  };
  if (r.upstream !== undefined) f["upstream"] = r.upstream;
  if (r.endpoint !== undefined) f["endpoint"] = r.endpoint;
  if (r.reason !== undefined) f["reason"] = r.reason;
  if (r.bizStatus !== undefined) f["biz_status"] = r.bizStatus;
  if (r.upstreamMs !== undefined) f["upstream_ms"] = round(r.upstreamMs);
  if (r.bytesIn !== undefined) f["bytes_in"] = r.bytesIn;
  if (r.auth !== undefined) f["auth"] = r.auth;
  if (r.clientGone) f["client_gone"] = true;
  return f;
}

/** accessLogFields' keys, in its order (a value left undefined leaves the field out, as there). */
const KEYS = [
  "request_id", "trace_id", "span_id", "method", "path", "route", "status", "code", "outcome", "duration_ms", "bytes_out",
  "upstream", "endpoint", "reason", "biz_status", "upstream_ms", "bytes_in", "auth", "client_gone",
] as const;

function accessLogValues(r: RequestRecord): unknown[] {
  return [
    r.requestId, r.traceId, r.spanId, r.httpMethod, r.path, r.route, r.status, r.code, r.outcome, round(r.durationMs), r.bytesOut,
    r.upstream, r.endpoint, r.reason, r.bizStatus, r.upstreamMs === undefined ? undefined : round(r.upstreamMs), r.bytesIn, r.auth, r.clientGone ? true : undefined,
  ];
}

/** Admin probes at debug; gateway and upstream failures (5xx) at error; the rest at info. */
export function accessLogLevel(r: RequestRecord): LogLevelName {
  if (r.admin) return "debug";
  return r.status >= 500 ? "error" : "info";
}

/** Writes `logger[level]("request", accessLogFields(r))`, with the keys' work done once per logger. */
export function createAccessLog(logger: Logger): (r: RequestRecord) => void {
  const write = logger.lineWriter("request", KEYS);
  return (r) => {
    const level = accessLogLevel(r);
    if (logger.isEnabled(level)) write(level, accessLogValues(r));
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
