// Errors a gRPC call over HTTP/2 can end with, as GatewayErrors.
import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";

// RFC 9113 section 7 error codes we act on.
export const H2_NO_ERROR = 0;
export const H2_REFUSED_STREAM = 7;
export const H2_CANCEL = 8;
export const H2_ENHANCE_YOUR_CALM = 11;

export function notSentError(endpoint: string, why: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.notSent,
    message: `connection to ${endpoint} closed before the call was sent (${why})`,
    neverSent: true,
    endpoint,
  });
}

export function connectError(endpoint: string, cause: unknown): GatewayError {
  const timeout = cause instanceof Error && cause.name === "ConnectTimeoutError";
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: timeout ? Reason.upstreamConnectTimeout : Reason.upstreamConnect,
    message: timeout
      ? `could not connect to ${endpoint}: ${(cause as Error).message}`
      : `could not connect to ${endpoint}: ${cause instanceof Error ? cause.message : String(cause)}`,
    neverSent: true,
    endpoint,
    cause,
  });
}

export function streamResetError(endpoint: string, rstCode: number | undefined, sawResponse: boolean): GatewayError {
  if (rstCode === H2_REFUSED_STREAM && !sawResponse) {
    // RFC 9113 8.7: a REFUSED_STREAM stream was not processed; safe to retry.
    return notSentError(endpoint, "stream refused");
  }
  return new GatewayError({
    code: rstCode === H2_CANCEL ? GrpcCode.CANCELLED : rstCode === H2_ENHANCE_YOUR_CALM ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.UNAVAILABLE,
    reason: Reason.upstreamClosed,
    message: `upstream ${endpoint} reset the stream${rstCode !== undefined ? ` (HTTP/2 error ${rstCode})` : ""} before sending a status`,
    endpoint,
  });
}

export function connectionLostError(endpoint: string, cause?: unknown): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.upstreamClosed,
    message: `connection to ${endpoint} was lost during the call${cause instanceof Error ? `: ${cause.message}` : ""}`,
    endpoint,
    cause,
  });
}

export function deadlineError(endpoint: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.DEADLINE_EXCEEDED,
    reason: Reason.upstreamTimeout,
    message: `deadline exceeded waiting for ${endpoint}`,
    endpoint,
  });
}

export function cancelledError(reason: unknown): GatewayError {
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: "deadline exceeded", cause: reason });
  }
  return new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "call cancelled", cause: reason });
}
