/** Finished-span data as handed to exporters. Shapes follow the OTLP trace model (trace.proto). */

/** OTLP Span.SpanKind numbers (opentelemetry/proto/trace/v1/trace.proto). */
export const SpanKind = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
} as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP Status.StatusCode numbers. */
export const SpanStatusCode = {
  unset: 0,
  ok: 1,
  error: 2,
} as const;
export type SpanStatusCode = (typeof SpanStatusCode)[keyof typeof SpanStatusCode];

export type AttributeScalar = string | number | boolean | bigint;
export type AttributeValue = AttributeScalar | readonly AttributeScalar[];
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface SpanData {
  /** 32 lowercase hex chars. */
  readonly traceId: string;
  /** 16 lowercase hex chars. */
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: SpanKind;
  /** Nanoseconds since the Unix epoch; bigint because ns timestamps exceed 2^53. */
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes?: Attributes;
  readonly status?: { readonly code: SpanStatusCode; readonly message?: string };
  readonly traceState?: string;
  /** W3C trace-flags (low 8 bits). */
  readonly flags?: number;
}

/** Milliseconds (possibly fractional) since the epoch to ns, without losing ms precision. */
export function msToUnixNano(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** Wall-clock now in ns, with sub-ms resolution from the monotonic clock. */
export function nowUnixNano(): bigint {
  return msToUnixNano(performance.timeOrigin + performance.now());
}
