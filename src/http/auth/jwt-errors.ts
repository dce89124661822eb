/** Maps jose failures to our stable reasons and client-safe descriptions. */
import { errors } from "jose";
import type { AuthFailureReason } from "./types.ts";

/** The key set could not be fetched (network, timeout, non-200, bad JSON). */
export class KeySourceError extends Error {
  constructor(cause: unknown) {
    super("key set unavailable", { cause });
    this.name = "KeySourceError";
  }
}

export interface Classified {
  reason: AuthFailureReason;
  description: string;
}

export function classifyJoseError(e: unknown): Classified {
  if (e instanceof KeySourceError) return { reason: "key_source_unavailable", description: "signing keys are temporarily unavailable" };
  if (e instanceof errors.JWTExpired) return { reason: "expired", description: "token expired" };
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case "nbf":
        return { reason: "not_yet_valid", description: "token not yet valid" };
      case "iss":
        return { reason: "bad_issuer", description: "unexpected issuer" };
      case "aud":
        return { reason: "bad_audience", description: "unexpected audience" };
      default:
        return { reason: "bad_claims", description: `invalid or missing "${e.claim}" claim` };
    }
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return { reason: "bad_signature", description: "signature verification failed" };
  if (e instanceof errors.JOSEAlgNotAllowed) return { reason: "alg_not_allowed", description: "algorithm not allowed" };
  if (e instanceof errors.JWKSNoMatchingKey) return { reason: "no_matching_key", description: "no matching signing key" };
  if (e instanceof errors.JWKSMultipleMatchingKeys) return { reason: "no_matching_key", description: "ambiguous signing key" };
  // JWSInvalid, JWTInvalid, JOSENotSupported, key/alg type mismatches (TypeError) and anything else.
  return { reason: "malformed", description: "malformed token" };
}
