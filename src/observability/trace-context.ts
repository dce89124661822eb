/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/ §3.2):
 *   version "-" trace-id "-" parent-id "-" trace-flags     e.g.
 *   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 */
import { err, ok, type Result } from "../core/index.ts";
import { newSpanId, newTraceId } from "./ids.ts";
import { parseTracestate, type TracestateLimits } from "./tracestate.ts";

/** trace-flags bits: §3.2.2.5 (sampled) and Level 2 §3.2.2.5.2 (random trace-id). */
export const TraceFlags = {
  none: 0x00,
  sampled: 0x01,
  random: 0x02,
} as const;
const KNOWN_FLAGS = TraceFlags.sampled | TraceFlags.random;

export interface Traceparent {
  readonly version: number;
  readonly traceId: string;
  /** The caller's span id. */
  readonly parentId: string;
  readonly flags: number;
}

/** The context of one span, ours. `spanId` is what goes out as parent-id in our traceparent. */
export interface SpanContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The span that caused this one (the incoming parent-id), if any. */
  readonly parentSpanId?: string;
  readonly flags: number;
  /** Validated tracestate to forward unchanged. */
  readonly traceState?: string;
}

const HEX_LC = /^[0-9a-f]+$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Parses and validates a traceparent value. Surrounding spaces/tabs (HTTP OWS) are ignored.
 * Version 00 must be exactly 55 chars. Higher versions (§3.2.4): at least 55 chars, the
 * first 55 parsed like 00 and, if longer, followed by "-"; only the sampled flag is kept.
 * Version ff is invalid (§3.2.2.2).
 */
export function parseTraceparent(header: string | null | undefined): Result<Traceparent, string> {
  if (header == null) return err("missing");
  const h = header.replace(/^[ \t]+|[ \t]+$/g, "");
  if (h.length < 55) return err("too short");
  const versionHex = h.slice(0, 2);
  if (!HEX_LC.test(versionHex)) return err("invalid version");
  const version = parseInt(versionHex, 16);
  if (version === 0xff) return err("version ff is forbidden");
  if (version === 0 && h.length !== 55) return err("version 00 must be 55 chars");
  if (h.length > 55 && h[55] !== "-") return err("invalid data after trace-flags");
  if (h[2] !== "-" || h[35] !== "-" || h[52] !== "-") return err("invalid delimiters");
  const traceId = h.slice(3, 35);
  const parentId = h.slice(36, 52);
  const flagsHex = h.slice(53, 55);
  if (!HEX_LC.test(traceId) || traceId === ZERO_TRACE) return err("invalid trace-id");
  if (!HEX_LC.test(parentId) || parentId === ZERO_SPAN) return err("invalid parent-id");
  if (!HEX_LC.test(flagsHex)) return err("invalid trace-flags");
  const rawFlags = parseInt(flagsHex, 16);
  // We only understand bits defined for version 00; for later versions only "sampled" is trusted.
  const flags = version === 0 ? rawFlags & KNOWN_FLAGS : rawFlags & TraceFlags.sampled;
  return ok({ version, traceId, parentId, flags });
}

/** Always emits version 00, the version we implement (§3.4: mutate to a version we know). */
export function formatTraceparent(ctx: Pick<SpanContext, "traceId" | "spanId" | "flags">): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.flags & 0xff).toString(16).padStart(2, "0")}`;
}

export interface NewRootOptions {
  sampled?: boolean;
  traceState?: string;
}

/** A new trace. Our ids are random, so the Level 2 "random" flag is set. */
export function newRootContext(options: NewRootOptions = {}): SpanContext {
  const flags = TraceFlags.random | (options.sampled === false ? 0 : TraceFlags.sampled);
  return options.traceState === undefined
    ? { traceId: newTraceId(), spanId: newSpanId(), flags }
    : { traceId: newTraceId(), spanId: newSpanId(), flags, traceState: options.traceState };
}

function newRoot(sampled: boolean): SpanContext {
  return { traceId: newTraceId(), spanId: newSpanId(), flags: TraceFlags.random | (sampled ? TraceFlags.sampled : 0) };
}

/** A child span: same trace id, flags and tracestate, a new span id, parent = the given span. */
export function childContext(parent: SpanContext): SpanContext {
  const base = { traceId: parent.traceId, spanId: newSpanId(), parentSpanId: parent.spanId, flags: parent.flags };
  return parent.traceState === undefined ? base : { ...base, traceState: parent.traceState };
}

export interface ContinueOptions extends TracestateLimits {
  /** Sampling decision for a new root when there is no valid incoming traceparent. Default true. */
  sampleRoot?: boolean;
}

/**
 * The server span for an incoming request: a child of the caller's span when the
 * traceparent is valid, otherwise a new root. tracestate is only read when the
 * traceparent is valid (§3.3: "MUST NOT attempt to parse tracestate" otherwise).
 */
export function continueTrace(
  traceparent: string | null | undefined,
  tracestate: string | null | undefined,
  options: ContinueOptions = {},
): SpanContext {
  // No header (the usual case at an edge): a new root, nothing to parse.
  if (traceparent == null) return newRoot(options.sampleRoot ?? true);
  const parsed = parseTraceparent(traceparent);
  if (!parsed.ok) return newRoot(options.sampleRoot ?? true);
  const p = parsed.value;
  const traceState = parseTracestate(tracestate, options);
  const base = { traceId: p.traceId, spanId: newSpanId(), parentSpanId: p.parentId, flags: p.flags };
  return traceState === undefined ? base : { ...base, traceState };
}

export function isSampled(ctx: Pick<SpanContext, "flags">): boolean {
  return (ctx.flags & TraceFlags.sampled) !== 0;
}
