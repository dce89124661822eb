// Fans a finished request out to metrics, the access log and the span exporter. Never throws:
// observability must not fail a request.
import type { Logger, SpanData } from "../../observability/index.ts";
import { createAccessLog } from "./access-log.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { RequestObserver, RequestRecord } from "./request-record.ts";
import { requestSpans } from "./request-spans.ts";

export interface RequestObserverOptions {
  readonly metrics?: GatewayMetrics;
  /** Access log destination; absent: no access log. */
  readonly logger?: Logger;
  /** Span sink (e.g. OtlpHttpSpanExporter.export); absent: spans are not built. */
  readonly exportSpan?: (span: SpanData) => unknown;
}

export function createRequestObserver(o: RequestObserverOptions): RequestObserver {
  const { metrics, logger, exportSpan } = o;
  const accessLog = logger === undefined ? undefined : createAccessLog(logger);
  return {
    started() {
      metrics?.requestStarted();
    },
    finished(rec: RequestRecord) {
      try {
        metrics?.requestFinished(rec);
        accessLog?.(rec);
        if (exportSpan !== undefined) for (const s of requestSpans(rec)) exportSpan(s);
      } catch {
        // Counted nowhere on purpose: a broken sink must not turn into a failed request.
      }
    },
  };
}
