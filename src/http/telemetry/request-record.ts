// What one finished HTTP request looks like to metrics, access logs and tracing.

/** ok: 2xx. system_error: a gRPC status / gateway failure. business_error: backend biz-status. */
export type RequestOutcome = "ok" | "system_error" | "business_error";

export interface RequestRecord {
  readonly requestId: string;
  readonly traceId: string;
  /** The gateway's server span. */
  readonly spanId: string;
  /** The caller's span, when a valid traceparent came in. */
  readonly parentSpanId?: string;
  /** The span id sent upstream as parent-id (our client span), when an upstream call was made. */
  readonly upstreamSpanId?: string;
  readonly traceFlags: number;
  readonly traceState?: string;
  readonly httpMethod: string;
  /** Path without the query string (queries may carry secrets). */
  readonly path: string;
  /** Bounded-cardinality route label: "pkg.Service/Method", an admin path, or "unmatched". */
  readonly route: string;
  readonly upstream?: string;
  readonly endpoint?: string;
  readonly status: number;
  /** gRPC status name; "OK" for 2xx. */
  readonly code: string;
  readonly outcome: RequestOutcome;
  readonly reason?: string;
  readonly bizStatus?: number;
  /** True when the request got as far as calling an upstream. */
  readonly upstreamCalled: boolean;
  /** Auth outcome: "ok", "anonymous", or the failure reason. Absent when the route has no auth. */
  readonly auth?: string;
  /** Wall-clock start, ms since the epoch. */
  readonly startMs: number;
  /** Until the response body was fully sent (or abandoned). */
  readonly durationMs: number;
  /** Upstream call window: from the call start to the response head. */
  readonly upstreamStartMs?: number;
  readonly upstreamMs?: number;
  /** From Content-Length when the client sent one. */
  readonly bytesIn?: number;
  readonly bytesOut: number;
  /** The client went away before the response was complete. */
  readonly clientGone: boolean;
  /** /healthz, /readyz, /metrics, /admin/... */
  readonly admin: boolean;
}

/** Receives every finished request (metrics, access log, spans). Must not throw. */
export interface RequestObserver {
  started(): void;
  finished(record: RequestRecord): void;
}
