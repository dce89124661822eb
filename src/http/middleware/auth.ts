// Per-route JWT check: the route's requirement (required / optional / none, claims, scopes), the
// verifier's verdict, and for a pass the claims to forward upstream. Failures answer in the usual
// error shape with a WWW-Authenticate challenge (RFC 6750 §3).
import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";
import type { MethodInfo } from "../../transcode/index.ts";
import type { AuthRequirement, AuthResult, ClaimForwarder, JwtClaims, JwtVerifier } from "../auth/index.ts";
import { errorResponse, type ErrorBodyOptions } from "../error-response.ts";

export interface AuthGateOptions {
  readonly verifier: JwtVerifier;
  /** The requirement of a method's route (callers cache it per method). */
  readonly requirementFor: (method: MethodInfo) => AuthRequirement;
  readonly forwarder?: ClaimForwarder;
}

export type AuthCheck =
  /**
   * `label`: "ok" (valid token), "anonymous" (optional route, no token), undefined (mode none).
   * `claims`: the verified token's claims (null without a token), e.g. for claim-keyed rate limits.
   */
  | { readonly ok: true; readonly label: string | undefined; readonly metadata: Readonly<Record<string, string>>; readonly claims: JwtClaims | null }
  | { readonly ok: false; readonly label: string; readonly response: Response };

export interface AuthGate {
  check(req: Request, method: MethodInfo, ids: Pick<ErrorBodyOptions, "requestId" | "traceId">): Promise<AuthCheck>;
  /** Header names a client must not send upstream (they would impersonate forwarded claims). */
  reserved(name: string): boolean;
}

const NONE: AuthCheck = { ok: true, label: undefined, metadata: {}, claims: null };

function failure(r: Extract<AuthResult, { ok: false }>): GatewayError {
  if (r.status === 403) return new GatewayError({ code: GrpcCode.PERMISSION_DENIED, reason: Reason.forbidden, message: r.description });
  if (r.status === 503) return new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.authUnavailable, message: r.description });
  return new GatewayError({ code: GrpcCode.UNAUTHENTICATED, reason: Reason.unauthenticated, message: r.description });
}

export function createAuthGate(o: AuthGateOptions): AuthGate {
  return {
    reserved: (name) => o.forwarder?.isReserved(name) ?? false,
    async check(req, method, ids) {
      const requirement = o.requirementFor(method);
      if (requirement.mode === "none") return NONE;
      const r = await o.verifier.verify(req.headers.get("authorization"), requirement);
      if (!r.ok) {
        const headers: Record<string, string> = {};
        if (r.wwwAuthenticate !== undefined) headers["www-authenticate"] = r.wwwAuthenticate;
        // A key set we cannot reach is our problem, not the client's: ask it to retry soon.
        if (r.status === 503) headers["retry-after"] = "1";
        if (ids.requestId !== undefined) headers["x-request-id"] = ids.requestId;
        return { ok: false, label: r.reason, response: errorResponse(failure(r), ids, headers) };
      }
      if (r.claims === null) return { ok: true, label: "anonymous", metadata: {}, claims: null };
      return { ok: true, label: "ok", metadata: o.forwarder?.select(r.claims) ?? {}, claims: r.claims };
    },
  };
}
