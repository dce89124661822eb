// Where a route's rate-limit bucket key comes from (config routes[].rateLimit.key):
//   "ip"              the client address (default)
//   "header:<name>"   a request header as the client sent it (trusted only behind a proxy that sets it)
//   "metadata:<name>" upstream metadata: allowed client headers, and forwarded JWT claims (auth.forwardClaims),
//                     which the header policy strips from what clients send
//   "claim:<name>"    a claim of the request's verified JWT (name or dotted path, as in auth claims); a
//                     request without a token (optional auth) falls back to its client address
import { readClaim, type JwtClaims } from "./auth/index.ts";

export interface KeyInputs {
  readonly clientAddress?: string;
  /** The verified token's claims; null or absent: no token. */
  readonly claims?: JwtClaims | null;
}

/** The bucket key of one request. Claims and addresses are namespaced so one can't take the other's bucket. */
export function rateLimitKey(source: string, req: Request, metadata: Readonly<Record<string, string>>, inputs: KeyInputs): string {
  if (source.startsWith("claim:")) {
    const v = inputs.claims ? readClaim(inputs.claims, source.slice(6)) : undefined;
    if (v === undefined || v === null) return `ip:${inputs.clientAddress ?? ""}`;
    return `claim:${typeof v === "string" ? v : JSON.stringify(v)}`;
  }
  if (source.startsWith("header:")) return req.headers.get(source.slice(7)) ?? "";
  // Upstream metadata holds forwarded headers and verified JWT claims (auth.forwardClaims).
  if (source.startsWith("metadata:")) return metadata[source.slice(9).toLowerCase()] ?? "";
  return inputs.clientAddress ?? "";
}
