// Client-requested timeouts: grpc-timeout (gRPC syntax) or X-Sluice-Timeout ("1.5s", "300ms").
import { GatewayError, GrpcCode, parseDuration, Reason } from "../core/index.ts";
import { parseGrpcTimeout } from "../protocol/grpc/index.ts";

export function requestedTimeoutMs(headers: Headers): number | undefined {
  const s = headers.get("x-sluice-timeout");
  if (s !== null) {
    const ms = parseDuration(s);
    if (ms === undefined) throw bad("X-Sluice-Timeout", s);
    return ms;
  }
  const g = headers.get("grpc-timeout");
  if (g !== null) {
    const ms = parseGrpcTimeout(g);
    if (ms === undefined) throw bad("grpc-timeout", g);
    return ms;
  }
  return undefined;
}

function bad(name: string, v: string): GatewayError {
  return new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badField, message: `invalid ${name} header "${v}"` });
}
