// The one GatewayError -> HTTP conversion. Body: {"code": "<gRPC code name>", "message", "details", "reason", ...}.
import { codeName, GatewayError, httpStatusForError, toGatewayError } from "../core/index.ts";
import { retryAfterMsOf } from "../resilience/index.ts";

export interface ErrorBodyOptions {
  readonly requestId?: string;
  readonly traceId?: string;
  /** HTTP status for backend business errors (TTHeader biz-status); they are not system failures. */
  readonly bizErrorStatus?: number;
  /** Turns raw status details (grpc-status-details-bin) into JSON. */
  readonly decodeDetails?: (bin: Uint8Array) => unknown[];
}

export interface ErrorBody {
  code: string;
  message: string;
  details: unknown[];
  reason: string;
  upstream?: string;
  endpoint?: string;
  business?: { status: number; message: string; extra?: Record<string, string> };
  request_id?: string;
  trace_id?: string;
}

export function errorBody(e: unknown, o: ErrorBodyOptions = {}): { status: number; body: ErrorBody; error: GatewayError } {
  const err = toGatewayError(e);
  const details = err.details.flatMap((d) => {
    const bin = (d as { "@bin"?: Uint8Array })["@bin"];
    return bin ? (o.decodeDetails?.(bin) ?? []) : [d];
  });
  const body: ErrorBody = { code: codeName(err.code), message: err.message, details, reason: err.reason };
  if (err.upstream) body.upstream = err.upstream;
  if (err.endpoint) body.endpoint = err.endpoint;
  if (err.biz) body.business = err.biz;
  if (o.requestId) body.request_id = o.requestId;
  if (o.traceId) body.trace_id = o.traceId;
  const status = httpStatusForError(err, o.bizErrorStatus);
  return { status, body, error: err };
}

export function errorResponse(e: unknown, o: ErrorBodyOptions = {}, headers: Record<string, string> = {}): Response {
  const { status, body, error } = errorBody(e, o);
  const h: Record<string, string> = { "content-type": "application/json", ...headers };
  // Refusals that say when to come back (rate limit, open breaker, overload, upstream pushback).
  const retryMs = status === 429 || status === 503 ? retryAfterMsOf(error) : undefined;
  if (retryMs !== undefined) h["retry-after"] = String(Math.max(1, Math.ceil(retryMs / 1000)));
  // The body was not read to its end, so the connection can't carry another request: closing it stops a
  // client that trickles bytes from holding it (RFC 9110 15.5.9: 408 "close this unused connection"), and
  // the server from reading and discarding the rest of a body refused as too large (RFC 9110 15.5.14: 413
  // "the server MAY close the connection to prevent the client from continuing the request").
  if (status === 408 || status === 413) h["connection"] = "close";
  return new Response(JSON.stringify(body), { status, headers: h });
}

export { GatewayError };
