/**
 * The errors resilience policies raise, and the retry-delay convention.
 *
 * Retry delays travel as a google.rpc.RetryInfo entry in `GatewayError.details`
 * (google/rpc/error_details.proto; JSON form per the proto3 JSON mapping, Duration
 * as "<seconds>s"), so the HTTP layer can emit `Retry-After` and a gRPC client
 * sees the standard detail. `retryAfterMsOf()` reads it back (or `pushbackMs`).
 * Local refusals (rate limit, overload, open circuit) never set `neverSent`:
 * that flag is a transport fact that makes retries bypass idempotency and the
 * retry budget, and a local refusal must not trigger retries.
 */
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";

export const RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo";

export interface RetryInfoDetail {
  "@type": typeof RETRY_INFO_TYPE;
  retryDelay: string;
}

export function retryInfoDetail(ms: number): RetryInfoDetail {
  const secs = Math.max(0, Math.ceil(ms)) / 1000;
  return { "@type": RETRY_INFO_TYPE, retryDelay: `${secs}s` };
}

/** The retry delay an error suggests, in ms: RetryInfo detail first, then pushbackMs. */
export function retryAfterMsOf(e: unknown): number | undefined {
  if (!GatewayError.is(e)) return undefined;
  for (const d of e.details) {
    if (typeof d !== "object" || d === null) continue;
    const r = d as Partial<RetryInfoDetail>;
    if (r["@type"] !== RETRY_INFO_TYPE || typeof r.retryDelay !== "string") continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(r.retryDelay);
    if (m) return Math.round(Number(m[1]) * 1000);
  }
  return e.pushbackMs !== undefined && e.pushbackMs >= 0 ? e.pushbackMs : undefined;
}

export function deadlineExceededError(timeoutMs: number | undefined, upstream?: string): GatewayError {
  const what = timeoutMs === undefined ? "call deadline exceeded" : `deadline of ${timeoutMs}ms exceeded`;
  return new GatewayError({
    code: GrpcCode.DEADLINE_EXCEEDED,
    reason: Reason.upstreamTimeout,
    message: upstream ? `${what} calling ${upstream}` : what,
    upstream,
  });
}

export function circuitOpenError(name: string, retryAfterMs: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.circuitOpen,
    message: `circuit breaker "${name}" is open`,
    upstream: name,
    details: [retryInfoDetail(retryAfterMs)],
  });
}

/** Local overload: UNAVAILABLE so the HTTP layer answers 503 (codes.ts), which is what overload means. */
export function overloadedError(name: string, why: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.overloaded,
    message: `bulkhead "${name}" ${why}`,
    upstream: name,
  });
}

/** RESOURCE_EXHAUSTED maps to HTTP 429; the delay rides in a RetryInfo detail. */
export function rateLimitedError(name: string, retryAfterMs: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.RESOURCE_EXHAUSTED,
    reason: Reason.rateLimited,
    message: Number.isFinite(retryAfterMs)
      ? `rate limit "${name}" exceeded; retry after ${Math.ceil(retryAfterMs)}ms`
      : `rate limit "${name}" exceeded; the request costs more than the burst allows`,
    details: Number.isFinite(retryAfterMs) ? [retryInfoDetail(retryAfterMs)] : [],
  });
}

/** The abort reason given to hedged attempts that lost the race (never surfaced to clients). */
export function hedgeLostReason(): DOMException {
  return new DOMException("another attempt of this call already succeeded", "AbortError");
}
