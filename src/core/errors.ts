import { codeName, GrpcCode, httpStatusForCode, type GrpcCodeName } from "./codes.ts";

/**
 * The one error type that crosses layers. `reason` is a stable, machine-readable
 * string (documented in README, never reworded); `code` is the gRPC status.
 */
export interface GatewayErrorInit {
  reason: string;
  code: GrpcCode;
  message: string;
  cause?: unknown;
  /** google.rpc.Status details, already JSON-shaped. */
  details?: unknown[];
  /** The request never reached the wire: safe to retry whatever the method. */
  neverSent?: boolean;
  /** Business error from the backend (TTHeader biz-status), kept apart from system errors. */
  biz?: { status: number; message: string; extra?: Record<string, string> };
  /** Server-suggested retry delay (grpc-retry-pushback-ms). */
  pushbackMs?: number;
  /** Upstream name / address, for messages and logs. */
  upstream?: string;
  endpoint?: string;
}

const BRAND = Symbol.for("sluice.GatewayError");

export class GatewayError extends Error {
  readonly reason: string;
  readonly code: GrpcCode;
  readonly details: unknown[];
  readonly neverSent: boolean;
  readonly biz: GatewayErrorInit["biz"];
  readonly pushbackMs: number | undefined;
  readonly upstream: string | undefined;
  readonly endpoint: string | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "GatewayError";
    this.reason = init.reason;
    this.code = init.code;
    this.details = init.details ?? [];
    this.neverSent = init.neverSent ?? false;
    this.biz = init.biz;
    this.pushbackMs = init.pushbackMs;
    this.upstream = init.upstream;
    this.endpoint = init.endpoint;
    (this as unknown as Record<symbol, boolean>)[BRAND] = true;
  }

  get codeName(): GrpcCodeName {
    return codeName(this.code);
  }

  /** Works across copies of this module (e.g. two bundles). */
  static is(e: unknown): e is GatewayError {
    return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Stable reasons. Add here, never rename. */
export const Reason = {
  badJson: "bad_json",
  badField: "bad_field",
  unknownField: "unknown_field",
  routeNotFound: "route_not_found",
  methodNotFound: "method_not_found",
  methodNotAllowed: "method_not_allowed",
  bodyTooLarge: "body_too_large",
  /** The request body (or an NDJSON line of a client stream) did not arrive in time (limits.bodyReadTimeout). */
  bodyReadTimeout: "body_read_timeout",
  unsupportedMediaType: "unsupported_media_type",
  upstreamStatus: "upstream_status",
  upstreamProtocol: "upstream_protocol_error",
  upstreamConnect: "upstream_connect_failed",
  upstreamConnectTimeout: "upstream_connect_timeout",
  upstreamClosed: "upstream_connection_closed",
  notSent: "connection_closed_before_send",
  upstreamTimeout: "upstream_deadline_exceeded",
  messageTooLarge: "message_too_large",
  noEndpoints: "no_endpoints",
  poolExhausted: "pool_exhausted",
  circuitOpen: "circuit_open",
  rateLimited: "rate_limited",
  overloaded: "overloaded",
  bizError: "business_error",
  unauthenticated: "unauthenticated",
  forbidden: "forbidden",
  /** The JWT signing keys (JWKS) could not be fetched: retryable, not the client's fault. */
  authUnavailable: "auth_keys_unavailable",
  clientCancelled: "client_cancelled",
  draining: "draining",
  internal: "internal",
} as const;

export type Reason = (typeof Reason)[keyof typeof Reason];

export function gatewayError(code: GrpcCode, reason: string, message: string, extra?: Partial<GatewayErrorInit>): GatewayError {
  return new GatewayError({ ...extra, code, reason, message });
}

/** Convert anything thrown into a GatewayError (the one unknown -> error conversion below rpc/). */
export function toGatewayError(e: unknown, fallbackCode: GrpcCode = GrpcCode.INTERNAL): GatewayError {
  if (GatewayError.is(e)) return e;
  if (e instanceof Error && e.name === "AbortError") {
    return new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "call cancelled", cause: e });
  }
  if (e instanceof Error && e.name === "TimeoutError") {
    return new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: "deadline exceeded", cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new GatewayError({ code: fallbackCode, reason: Reason.internal, message, cause: e });
}

/** Reasons whose HTTP status is more precise than their gRPC code's (the rest use httpStatusForCode). */
const HTTP_FOR_REASON: Readonly<Record<string, number>> = {
  [Reason.bodyTooLarge]: 413,
  [Reason.bodyReadTimeout]: 408,
  [Reason.unsupportedMediaType]: 415,
  [Reason.methodNotAllowed]: 405,
  [Reason.routeNotFound]: 404,
  [Reason.messageTooLarge]: 502,
  [Reason.upstreamProtocol]: 502,
  [Reason.rateLimited]: 429,
  [Reason.overloaded]: 503,
};

/** The HTTP status for an error: the one place gRPC codes and reasons become HTTP statuses. */
export function httpStatusForError(err: GatewayError, bizErrorStatus = 422): number {
  if (err.biz) return bizErrorStatus;
  return HTTP_FOR_REASON[err.reason] ?? httpStatusForCode(err.code);
}
