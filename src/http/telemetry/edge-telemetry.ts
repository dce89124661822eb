// Process-wide observability: the logger, the metrics registry with every gateway metric, the
// optional OTLP span exporter, and the request observer feeding them. Built once per process and
// kept across config reloads (so counters never reset on reload).
import type { Event } from "../../core/index.ts";
import { createLogger, MetricsRegistry, OtlpHttpSpanExporter, type Logger, type LogLevelName } from "../../observability/index.ts";
import { GatewayMetrics, type AttemptLike, type GroupStatsLike } from "./gateway-metrics.ts";
import { createRequestObserver } from "./request-observer.ts";
import type { RequestObserver } from "./request-record.ts";

export interface EdgeTelemetryOptions {
  readonly logging: { readonly level: LogLevelName; readonly accessLog: boolean };
  readonly tracing: {
    readonly serviceName: string;
    readonly otlp?: { readonly endpoint: string; readonly headers: Readonly<Record<string, string>>; readonly flushInterval: number; readonly timeout: number; readonly maxQueueSize: number };
  };
  /** Default: JSON lines on stdout at logging.level. */
  readonly logger?: Logger;
  readonly invoker: {
    readonly onFinishedAfterClientLeft: Event<{ readonly method: string; readonly upstream: string; readonly ok: boolean; readonly code: string }>;
    readonly stats: { readonly cancelledByClient: number };
  };
  /** Upstream groups serving now or still draining. */
  readonly groups: () => Iterable<GroupStatsLike>;
  readonly ready: () => boolean;
  readonly memoryRss?: () => number;
  /** Circuit breakers of the running config's upstreams (name = upstream), read at scrape time. */
  readonly breakers?: () => Iterable<{ readonly name: string; readonly state: string }>;
  /** For tests: the exporter's transport. */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface EdgeTelemetry {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly observer: RequestObserver;
  readonly exporter: OtlpHttpSpanExporter | undefined;
  /** Counts a group's attempts; returns the unsubscribe. */
  observeGroup(group: { readonly onOutcome: { on(fn: (e: AttemptLike) => void): () => void } }): () => void;
  /** Flushes spans still queued. */
  close(): Promise<void>;
}

export function createEdgeTelemetry(o: EdgeTelemetryOptions): EdgeTelemetry {
  const logger = o.logger ?? createLogger({ level: o.logging.level });
  const otlp = o.tracing.otlp;
  let exportErrors = 0;
  const exporter =
    otlp === undefined
      ? undefined
      : new OtlpHttpSpanExporter({
          url: otlp.endpoint,
          serviceName: o.tracing.serviceName,
          headers: otlp.headers,
          flushIntervalMs: otlp.flushInterval,
          timeoutMs: otlp.timeout,
          maxQueueSize: otlp.maxQueueSize,
          ...(o.fetch !== undefined ? { fetch: o.fetch } : {}),
          // The first failure and every 100th after it: a collector outage must not flood the log.
          onError: (e) => {
            if (exportErrors++ % 100 === 0) logger.warn("span export failed", { error: e, endpoint: otlp.endpoint, failures: exportErrors });
          },
        });
  const metrics = new GatewayMetrics(new MetricsRegistry(), {
    groups: o.groups,
    invokerStats: () => o.invoker.stats,
    ready: o.ready,
    ...(o.memoryRss !== undefined ? { memoryRss: o.memoryRss } : {}),
    ...(o.breakers !== undefined ? { breakers: o.breakers } : {}),
    ...(exporter !== undefined ? { spanExporter: () => exporter.stats() } : {}),
  });
  o.invoker.onFinishedAfterClientLeft.on((e) => {
    metrics.finishedAfterClientLeft(e);
    logger.info("call finished after client left", { upstream: e.upstream, rpc: e.method, ok: e.ok, code: e.code });
  });
  const observer = createRequestObserver({
    metrics,
    ...(o.logging.accessLog ? { logger } : {}),
    ...(exporter !== undefined ? { exportSpan: (s) => exporter.export(s) } : {}),
  });
  return {
    logger,
    metrics,
    observer,
    exporter,
    observeGroup: (g) => g.onOutcome.on((e) => metrics.attempt(e)),
    close: async () => {
      await exporter?.close();
    },
  };
}
