// Spans of a finished request, for export: the gateway's server span and, when an upstream was
// called, its client span (whose id went upstream as traceparent parent-id). Semantic conventions:
// OpenTelemetry HTTP server spans and RPC client spans (http.*, rpc.*, server.address).
import { isSampled, msToUnixNano, SpanKind, SpanStatusCode, type Attributes, type SpanData } from "../../observability/index.ts";
import type { RequestRecord } from "./request-record.ts";

export function requestSpans(r: RequestRecord): SpanData[] {
  if (!isSampled({ flags: r.traceFlags })) return [];
  const common = { traceId: r.traceId, flags: r.traceFlags, ...(r.traceState !== undefined ? { traceState: r.traceState } : {}) };
  const serverAttrs: Record<string, string | number> = {
    "http.request.method": r.httpMethod,
    "url.path": r.path,
    "http.route": r.route,
    "http.response.status_code": r.status,
    "sluice.request_id": r.requestId,
  };
  if (r.reason !== undefined) serverAttrs["sluice.reason"] = r.reason;
  const spans: SpanData[] = [
    {
      ...common,
      spanId: r.spanId,
      ...(r.parentSpanId !== undefined ? { parentSpanId: r.parentSpanId } : {}),
      name: `${r.httpMethod} ${r.route}`,
      kind: SpanKind.server,
      startTimeUnixNano: msToUnixNano(r.startMs),
      endTimeUnixNano: msToUnixNano(r.startMs + r.durationMs),
      attributes: serverAttrs as Attributes,
      // OTel HTTP semconv: 4xx is not an error for a server span; 5xx is.
      status: r.status >= 500 ? { code: SpanStatusCode.error, message: r.code } : { code: SpanStatusCode.unset },
    },
  ];
  if (r.upstreamSpanId !== undefined && r.upstreamStartMs !== undefined && r.upstreamMs !== undefined) {
    const [service = "", method = ""] = r.route.split("/");
    const attrs: Record<string, string | number> = { "rpc.service": service, "rpc.method": method, "rpc.grpc.status_code_name": r.code };
    if (r.upstream !== undefined) attrs["sluice.upstream"] = r.upstream;
    if (r.endpoint !== undefined) attrs["server.address"] = r.endpoint;
    if (r.bizStatus !== undefined) attrs["sluice.biz_status"] = r.bizStatus;
    spans.push({
      ...common,
      spanId: r.upstreamSpanId,
      parentSpanId: r.spanId,
      name: r.route,
      kind: SpanKind.client,
      startTimeUnixNano: msToUnixNano(r.upstreamStartMs),
      endTimeUnixNano: msToUnixNano(r.upstreamStartMs + r.upstreamMs),
      attributes: attrs as Attributes,
      status: r.outcome === "system_error" ? { code: SpanStatusCode.error, message: r.code } : { code: SpanStatusCode.unset },
    });
  }
  return spans;
}
