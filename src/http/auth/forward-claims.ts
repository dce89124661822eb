/**
 * Selected claims forwarded upstream as request metadata (gRPC metadata / TTHeader
 * string headers), e.g. sub -> "x-jwt-sub".
 *
 * Rules (so backends can rely on them):
 * - Names: `prefix` + claim name lowercased, chars outside [a-z0-9_.-] replaced by "-"
 *   (gRPC metadata key charset, PROTOCOL-HTTP2.md "Custom-Metadata"); or an explicit name.
 *   Names ending in "-bin" or starting with "grpc-" are refused (binary / reserved keys).
 * - Values: strings as is; numbers and booleans via String(); arrays of scalars joined
 *   with ","; objects as JSON. A value with chars outside printable ASCII (%x20-7E, the
 *   gRPC ASCII-value charset) is percent-encoded as a whole with encodeURIComponent.
 *   Values longer than `maxValueLength` and absent/null claims are not forwarded.
 * - Spoofing: the caller must drop inbound headers for which `isReserved(name)` is true
 *   (everything under the prefix, plus explicit names) before adding ours; `stripInbound` does it.
 */
import type { JwtClaims } from "./types.ts";
import { readClaim } from "./claims.ts";

export interface ClaimForwardingOptions {
  /** Claim names (header = prefix + name), or claim name -> explicit header name. */
  claims: readonly string[] | Readonly<Record<string, string>>;
  /** Default "x-jwt-". */
  prefix?: string;
  /** Default 1024 chars. */
  maxValueLength?: number;
}

export interface ClaimForwarder {
  readonly prefix: string;
  /** claim -> header name, in configuration order. */
  readonly mapping: readonly (readonly [claim: string, header: string])[];
  /** Headers to add for these (verified) claims; empty for anonymous requests. */
  select(claims: JwtClaims | null): Record<string, string>;
  isReserved(headerName: string): boolean;
  /** Deletes client-sent headers that could impersonate forwarded claims. */
  stripInbound(headers: Headers): void;
}

const KEY_OK = /^[a-z0-9_.-]+$/;

export function claimHeaderName(prefix: string, claim: string): string {
  return prefix + claim.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
}

function validateHeaderName(name: string): string {
  const n = name.toLowerCase();
  if (!KEY_OK.test(n) || n.endsWith("-bin") || n.startsWith("grpc-")) {
    throw new TypeError(`jwt forward: invalid metadata name ${JSON.stringify(name)}`);
  }
  return n;
}

function encodeValue(v: unknown): string | undefined {
  let s: string;
  if (typeof v === "string") s = v;
  else if (typeof v === "number" || typeof v === "boolean") s = String(v);
  else if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number" || typeof x === "boolean")) s = v.join(",");
  else if (typeof v === "object" && v !== null) s = JSON.stringify(v);
  else return undefined;
  return /^[\x20-\x7e]*$/.test(s) ? s : encodeURIComponent(s);
}

export function createClaimForwarder(options: ClaimForwardingOptions): ClaimForwarder {
  const prefix = validateHeaderName(options.prefix ?? "x-jwt-");
  const maxLen = options.maxValueLength ?? 1024;
  const pairs: [string, string][] = Array.isArray(options.claims)
    ? (options.claims as readonly string[]).map((c) => [c, validateHeaderName(claimHeaderName(prefix, c))])
    : Object.entries(options.claims as Record<string, string>).map(([c, h]) => [c, validateHeaderName(h)]);
  const seen = new Set<string>();
  for (const [, h] of pairs) {
    if (seen.has(h)) throw new TypeError(`jwt forward: two claims map to "${h}"`);
    seen.add(h);
  }

  const isReserved = (name: string): boolean => {
    const n = name.toLowerCase();
    return n.startsWith(prefix) || seen.has(n);
  };

  return {
    prefix,
    mapping: pairs,
    select(claims) {
      const out: Record<string, string> = {};
      if (claims === null) return out;
      for (const [claim, header] of pairs) {
        const v = encodeValue(readClaim(claims, claim));
        if (v !== undefined && v.length <= maxLen) out[header] = v;
      }
      return out;
    },
    isReserved,
    stripInbound(headers) {
      const drop: string[] = [];
      headers.forEach((_v, k) => {
        if (isReserved(k)) drop.push(k);
      });
      for (const k of drop) headers.delete(k);
    },
  };
}
