/** Public types of the JWT verifier (pure: no hono, wired into middleware by http/). */
import type { JWK, JWTPayload } from "jose";
import type { Clock } from "../../core/index.ts";

export type JwtClaims = JWTPayload;

export type HmacAlgorithm = "HS256" | "HS384" | "HS512";
export type AsymmetricAlgorithm =
  | "RS256" | "RS384" | "RS512"
  | "PS256" | "PS384" | "PS512"
  | "ES256" | "ES384" | "ES512"
  | "EdDSA" | "Ed25519";
/** Algorithms we accept. "none" is deliberately not representable (RFC 8725 §3.1, §2.1). */
export type JwsAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

/** A key configured inline. `kid` (optional) restricts it to tokens whose header carries that kid. */
export type StaticKeyConfig =
  /** Shared secret; RFC 7518 §3.2: at least as long as the hash (32/48/64 bytes). Strings are UTF-8. */
  | { secret: string | Uint8Array; alg?: HmacAlgorithm; kid?: string }
  /** PEM "PUBLIC KEY" (SPKI). The alg binds the key (RSA keys for RS* vs PS* differ). */
  | { spki: string; alg: AsymmetricAlgorithm; kid?: string }
  /** Public JWK (or an "oct" JWK for HS*); alg and kid default to the JWK's own. Private JWKs are refused. */
  | { jwk: JWK; alg?: JwsAlgorithm; kid?: string };

export interface JwksConfig {
  /** https URL of the key set (http allowed for tests and private networks). */
  url: string;
  /**
   * After a successful fetch, an unknown kid triggers another fetch only once this
   * long has passed (jose `cooldownDuration`). Bounds what random-kid tokens can cost. Default 30000.
   */
  cooldownMs?: number;
  /** Keys older than this are refetched before use (jose `cacheMaxAge`). Default 600000. */
  cacheMaxAgeMs?: number;
  /** Per-fetch timeout. Default 5000. */
  timeoutMs?: number;
  headers?: Readonly<Record<string, string>>;
}

export interface JwtVerifierOptions {
  keys?: readonly StaticKeyConfig[];
  jwks?: JwksConfig;
  /** Expected "iss"; any of the list. Unset: not checked. */
  issuer?: string | readonly string[];
  /** Expected "aud"; the token must name at least one. Unset: not checked. */
  audience?: string | readonly string[];
  /**
   * Allow-list of "alg" values. Default: the algs of the static keys, plus every
   * asymmetric alg when `jwks` is set. A token with another alg is rejected before any key lookup.
   */
  algorithms?: readonly JwsAlgorithm[];
  /** Allowed clock skew for exp/nbf/iat, seconds. Default 30. */
  clockToleranceSec?: number;
  /** Reject tokens without "exp" (never-expiring tokens). Default true. */
  requireExp?: boolean;
  /** Reject tokens whose "iat" is older than this many seconds. Unset: not checked. */
  maxTokenAgeSec?: number;
  /** Expected "typ" header, e.g. "at+jwt" (RFC 9068). Unset: not checked. */
  typ?: string;
  /** Tokens longer than this are rejected unparsed. Default 8192 chars. */
  maxTokenLength?: number;
  /** `realm` in WWW-Authenticate. Unset: omitted. */
  realm?: string;
  clock?: Clock;
}

/**
 * A claim requirement: `{ exists: true }` means present with any value; a primitive means
 * equal (or, for an array claim, contained); an array means any of the listed values.
 */
export type ClaimMatch =
  | { readonly exists: true }
  | string
  | number
  | boolean
  | readonly (string | number | boolean)[];

export type AuthMode = "required" | "optional" | "none";

/** Per route. `claims` and `scopes` apply whenever a token was presented (also in optional mode). */
export interface AuthRequirement {
  mode: AuthMode;
  /** Claim name (or dotted path into objects, e.g. "realm_access.roles") -> match. */
  claims?: Readonly<Record<string, ClaimMatch>>;
  /** All must be granted by "scope" (space-separated) and/or "scp" (array or string). */
  scopes?: readonly string[];
}

/** RFC 6750 §3.1 error codes, plus our own for a missing token and an unreachable key set. */
export type AuthErrorCode = "missing_token" | "invalid_token" | "insufficient_scope" | "temporarily_unavailable";

/** Fine-grained, stable reason, for logs and metric labels (never reworded). */
export type AuthFailureReason =
  | "missing"
  | "malformed"
  | "too_large"
  | "alg_not_allowed"
  | "no_matching_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "bad_issuer"
  | "bad_audience"
  | "bad_claims"
  | "claim_mismatch"
  | "scope_missing"
  | "key_source_unavailable";

export type AuthResult =
  | { ok: true; claims: JwtClaims | null }
  | {
      ok: false;
      /** 503 only when the key set could not be fetched: not the client's fault, retryable. */
      status: 401 | 403 | 503;
      error: AuthErrorCode;
      reason: AuthFailureReason;
      /** Human-readable, safe to return to clients. */
      description: string;
      /** Value for the WWW-Authenticate response header (RFC 6750 §3), when one applies. */
      wwwAuthenticate?: string;
    };

export interface JwtVerifier {
  verify(authorizationHeaderOrToken: string | null | undefined, requirement: AuthRequirement): Promise<AuthResult>;
  /** Resolves once static keys are imported; rejects on bad key config. Call at startup to fail fast. */
  ready(): Promise<void>;
}
