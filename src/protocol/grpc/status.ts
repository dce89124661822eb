// gRPC status from trailers (or trailers-only headers).
// Source: PROTOCOL-HTTP2.md ("Status", "Status-Message" percent-encoding), and
// grpc-status-details-bin carrying google.rpc.Status (base64, padding optional).
import { codeForHttpStatus, GatewayError, GrpcCode, isGrpcCode, Reason } from "../../core/index.ts";

export type Headers2 = Readonly<Record<string, string | string[] | undefined>>;

export function headerValue(h: Headers2, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function decodeGrpcMessage(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

export function encodeGrpcMessage(msg: string): string {
  // Percent-encode everything outside printable ASCII, and '%' itself.
  return msg.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

export function decodeBase64(s: string): Uint8Array {
  const norm = s.replace(/-/g, "+").replace(/_/g, "/");
  const padded = norm + "=".repeat((4 - (norm.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export interface GrpcStatus {
  code: number;
  message: string;
  /** Raw google.rpc.Status bytes, decoded to JSON details above (transcode/). */
  detailsBin?: Uint8Array;
  pushbackMs?: number;
  /** Kitex business error trailers (biz-status non-zero). */
  biz?: { status: number; message: string; extra?: Record<string, string> };
}

/** Reads grpc-status etc. Returns undefined if there is no grpc-status at all. */
export function readStatus(h: Headers2): GrpcStatus | undefined {
  const raw = headerValue(h, "grpc-status");
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const code = Number.isInteger(n) && isGrpcCode(n) ? n : GrpcCode.UNKNOWN;
  const msg = headerValue(h, "grpc-message");
  const det = headerValue(h, "grpc-status-details-bin");
  const push = headerValue(h, "grpc-retry-pushback-ms");
  const status: GrpcStatus = { code, message: msg === undefined ? "" : decodeGrpcMessage(msg) };
  if (det) {
    try {
      status.detailsBin = decodeBase64(det);
    } catch {
      // Malformed details are dropped, not fatal.
    }
  }
  if (push !== undefined) status.pushbackMs = /^\d+$/.test(push) ? Number(push) : -1;
  const biz = headerValue(h, "biz-status");
  if (biz !== undefined && /^-?\d+$/.test(biz) && Number(biz) !== 0) {
    const bm = headerValue(h, "biz-message");
    status.biz = { status: Number(biz), message: bm !== undefined ? decodeGrpcMessage(bm) : status.message, extra: parseBizExtra(headerValue(h, "biz-extra")) };
  }
  return status;
}

/** Error for a reply that isn't gRPC at all (wrong :status or content-type). */
export function nonGrpcResponseError(httpStatus: number, contentType: string | undefined, upstream: string): GatewayError {
  return new GatewayError({
    code: httpStatus === 200 ? GrpcCode.UNKNOWN : codeForHttpStatus(httpStatus),
    reason: Reason.upstreamProtocol,
    message: `upstream ${upstream} answered HTTP ${httpStatus} with content-type ${contentType ?? "(none)"}, not gRPC`,
    upstream,
  });
}

function parseBizExtra(v: string | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    if (typeof o !== "object" || o === null || Array.isArray(o)) return undefined;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, String(x)]));
  } catch {
    return undefined;
  }
}
