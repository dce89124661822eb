import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";

/** Bad bytes from the peer: the one error every decoder here reports. */
export function protocolError(message: string, cause?: unknown): GatewayError {
  return new GatewayError({
    code: GrpcCode.UNAVAILABLE,
    reason: Reason.upstreamProtocol,
    message: `ttheader: ${message}`,
    cause,
  });
}

/** Something we were asked to encode does not fit the wire format or our limits. */
export function tooLargeError(message: string): GatewayError {
  return new GatewayError({
    code: GrpcCode.RESOURCE_EXHAUSTED,
    reason: Reason.messageTooLarge,
    message: `ttheader: ${message}`,
    neverSent: true,
  });
}
