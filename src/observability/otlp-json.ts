/**
 * OTLP/JSON encoding of ExportTraceServiceRequest (OTLP spec, "JSON Protobuf Encoding"):
 * lowerCamelCase field names, trace/span ids as hex strings (not base64), enums as
 * integers, 64-bit integers as decimal strings.
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
import type { AttributeScalar, AttributeValue, Attributes, SpanData } from "./span.ts";

export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status?: { code: number; message?: string };
}

export interface OtlpResourceInfo {
  attributes: Attributes;
  scope: { name: string; version?: string };
}

export interface ExportTraceServiceRequestJson {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

function scalarValue(v: AttributeScalar): OtlpAnyValue {
  switch (typeof v) {
    case "string":
      return { stringValue: v };
    case "boolean":
      return { boolValue: v };
    case "bigint":
      return { intValue: v.toString() };
    default:
      return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  }
}

export function anyValue(v: AttributeValue): OtlpAnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: (v as readonly AttributeScalar[]).map(scalarValue) } };
  return scalarValue(v as AttributeScalar);
}

export function keyValues(attrs: Attributes | undefined): OtlpKeyValue[] {
  if (attrs === undefined) return [];
  const out: OtlpKeyValue[] = [];
  for (const key of Object.keys(attrs)) out.push({ key, value: anyValue(attrs[key]!) });
  return out;
}

export function encodeSpan(s: SpanData): OtlpSpan {
  const out: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    attributes: keyValues(s.attributes),
  };
  if (s.parentSpanId !== undefined) out.parentSpanId = s.parentSpanId;
  if (s.traceState !== undefined) out.traceState = s.traceState;
  if (s.flags !== undefined) out.flags = s.flags & 0xff;
  if (s.status !== undefined) {
    out.status = s.status.message === undefined ? { code: s.status.code } : { code: s.status.code, message: s.status.message };
  }
  return out;
}

export function encodeExportRequest(spans: readonly SpanData[], info: OtlpResourceInfo): ExportTraceServiceRequestJson {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues(info.attributes) },
        scopeSpans: [{ scope: info.scope, spans: spans.map(encodeSpan) }],
      },
    ],
  };
}
