import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";

// The connection-level errors, in one place. neverSent=true only where the
// request provably did not reach the wire (safe to retry whatever the method).

export function notSentError(endpoint: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.notSent,
    message: `connection to ${endpoint} is closed`,
    neverSent: true,
    endpoint,
  });
}

export function drainingError(endpoint: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.draining,
    message: `connection to ${endpoint} is draining`,
    neverSent: true,
    endpoint,
  });
}

export function fullError(endpoint: string, capacity: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.RESOURCE_EXHAUSTED,
    reason: Reason.overloaded,
    message: `connection to ${endpoint} already has ${capacity} calls in flight`,
    neverSent: true,
    endpoint,
  });
}

export function lostError(endpoint: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.upstreamClosed, message, cause, endpoint });
}

export function cancelledError(endpoint: string, neverSent: boolean, cause?: unknown): GatewayError {
  return new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "call cancelled", cause, neverSent, endpoint });
}

export function deadlineError(endpoint: string, neverSent: boolean): GatewayError {
  return new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: `deadline exceeded waiting for ${endpoint}`, neverSent, endpoint });
}

export function tooLargeReplyError(endpoint: string, size: number, limit: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.RESOURCE_EXHAUSTED,
    reason: Reason.messageTooLarge,
    message: `reply frame of ${size} bytes from ${endpoint} exceeds the limit of ${limit} bytes (upstream.maxMessageBytes plus room for headers)`,
    endpoint,
  });
}

export function connectError(endpoint: string, cause: unknown): GatewayError {
  const timeout = cause instanceof Error && cause.name === "ConnectTimeoutError";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: timeout ? Reason.upstreamConnectTimeout : Reason.upstreamConnect,
    message: `connect to ${endpoint} failed: ${detail}`,
    cause,
    neverSent: true,
    endpoint,
  });
}

/** The same error, marked as never sent (a call that waited on a failed connect). */
export function asNeverSent(e: GatewayError): GatewayError {
  return new GatewayError({ code: e.code, reason: e.reason, message: e.message, cause: e.cause, neverSent: true, endpoint: e.endpoint });
}
