export type { LabelValue, Labels } from "./labels.ts";
export type {
  MetricType,
  Metric,
  MetricOptions,
  MetricSnapshot,
  ScalarSnapshot,
  ScalarSeries,
  HistogramSnapshot,
  HistogramSeries,
} from "./metric-types.ts";
export { Counter, type CounterChild } from "./counter.ts";
export { Gauge, type GaugeChild, type GaugeOptions } from "./gauge.ts";
export {
  Histogram,
  type HistogramChild,
  type HistogramOptions,
  DEFAULT_LATENCY_BUCKETS,
  linearBuckets,
  exponentialBuckets,
} from "./histogram.ts";
export { MetricsRegistry } from "./registry.ts";
export { CallbackCounter, type CallbackCounterOptions } from "./callback-counter.ts";
export {
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheusText,
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
} from "./prometheus-text.ts";
export { newTraceId, newSpanId } from "./ids.ts";
export {
  TraceFlags,
  parseTraceparent,
  formatTraceparent,
  newRootContext,
  childContext,
  continueTrace,
  isSampled,
  type Traceparent,
  type SpanContext,
  type NewRootOptions,
  type ContinueOptions,
} from "./trace-context.ts";
export {
  parseTracestate,
  setTracestateEntry,
  isValidTracestateKey,
  isValidTracestateValue,
  type TracestateLimits,
} from "./tracestate.ts";
export {
  createLogger,
  parseLogLevel,
  LogLevel,
  type LogLevelName,
  type Logger,
  type LoggerOptions,
  type LogFields,
  type LogSink,
  type LineWriter,
} from "./logger.ts";
export { createRedactor, DEFAULT_REDACT_KEYS, REDACTED, type KeyMatcher, type RedactOptions, type Redactor } from "./redact.ts";
export {
  SpanKind,
  SpanStatusCode,
  msToUnixNano,
  nowUnixNano,
  type SpanData,
  type Attributes,
  type AttributeValue,
  type AttributeScalar,
} from "./span.ts";
export { encodeExportRequest, encodeSpan, type ExportTraceServiceRequestJson, type OtlpSpan } from "./otlp-json.ts";
export { OtlpHttpSpanExporter, type OtlpExporterOptions, type OtlpExporterStats } from "./otlp-exporter.ts";
