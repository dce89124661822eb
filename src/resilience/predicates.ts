/** Default error classifiers. Each is a plain predicate so the invoker can swap it per route. */
import { GatewayError, GrpcCode, toGatewayError } from "../core/index.ts";

/** Retry: only UNAVAILABLE (gRFC A6's usual retryableStatusCodes); `neverSent` is handled by the retry policy itself. */
export function defaultRetryable(e: unknown): boolean {
  return GatewayError.is(e) && e.code === GrpcCode.UNAVAILABLE && e.biz === undefined;
}

/** Hedging: failures after which the remaining attempts keep racing (A6 "nonFatalStatusCodes"). */
export function defaultHedgeNonFatal(e: unknown): boolean {
  return GatewayError.is(e) && (e.neverSent || e.code === GrpcCode.UNAVAILABLE) && e.biz === undefined;
}

const BREAKER_FAILURE_CODES: ReadonlySet<number> = new Set([
  GrpcCode.UNAVAILABLE,
  GrpcCode.DEADLINE_EXCEEDED,
  GrpcCode.INTERNAL,
  GrpcCode.UNKNOWN,
  GrpcCode.RESOURCE_EXHAUSTED,
]);

/**
 * Breaker: errors that say the upstream is unhealthy. Business errors and caller
 * mistakes (INVALID_ARGUMENT, NOT_FOUND, ...) mean the upstream answered fine.
 */
export function defaultBreakerFailure(e: unknown): boolean {
  const g = toGatewayError(e, GrpcCode.UNKNOWN);
  return g.biz === undefined && BREAKER_FAILURE_CODES.has(g.code);
}

/** A caller cancellation: neither success nor failure for health accounting. */
export function isCancellation(e: unknown): boolean {
  return toGatewayError(e).code === GrpcCode.CANCELLED;
}
