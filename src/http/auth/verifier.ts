/**
 * JWT bearer verification on jose 6. Pure and framework-free: http/ middleware calls
 * `verify(header, routeRequirement)` and turns a failure into a response.
 * Order: extract (RFC 6750 §2.1) -> size cap -> header alg allow-list (RFC 8725 §3.1)
 * -> key selection -> signature + registered claims (jose) -> route claims/scopes.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyOptions, type RemoteJWKSet } from "jose";
import { systemClock } from "../../core/index.ts";
import { extractBearer, formatWwwAuthenticate } from "./bearer.ts";
import { checkRequirement } from "./claims.ts";
import { classifyJoseError, KeySourceError, type Classified } from "./jwt-errors.ts";
import { configuredAlg, importStaticKeys, selectKeys, type KeyEntry } from "./key-store.ts";
import type { AsymmetricAlgorithm, AuthRequirement, AuthResult, JwtClaims, JwtVerifier, JwtVerifierOptions } from "./types.ts";

const ASYMMETRIC: readonly AsymmetricAlgorithm[] = [
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
];
const KNOWN = new Set<string>(["HS256", "HS384", "HS512", ...ASYMMETRIC]);
/** Tokens without a kid may match several inline keys; trying each costs a signature check. */
const MAX_KEY_CANDIDATES = 4;

function allowedAlgorithms(o: JwtVerifierOptions): Set<string> {
  if (o.algorithms !== undefined) {
    for (const a of o.algorithms) {
      // Config may come from YAML: guard at runtime too ("none" is not in the type).
      if (!KNOWN.has(a)) throw new TypeError(`jwt: algorithm ${JSON.stringify(a)} is not allowed`);
    }
    if (o.algorithms.length === 0) throw new TypeError("jwt: algorithms must not be empty");
    return new Set(o.algorithms);
  }
  const out = new Set<string>();
  for (const k of o.keys ?? []) {
    const alg = configuredAlg(k);
    if (alg !== undefined) out.add(alg);
  }
  if (o.jwks !== undefined) for (const a of ASYMMETRIC) out.add(a);
  return out;
}

function remoteKeySet(o: JwtVerifierOptions): RemoteJWKSet | undefined {
  const j = o.jwks;
  if (j === undefined) return undefined;
  const url = new URL(j.url); // throws on a bad URL at construction
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError(`jwt: jwks url must be http(s): ${j.url}`);
  return createRemoteJWKSet(url, {
    cooldownDuration: j.cooldownMs ?? 30_000,
    cacheMaxAge: j.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: j.timeoutMs ?? 5_000,
    ...(j.headers !== undefined ? { headers: { ...j.headers } } : {}),
  });
}

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  if ((options.keys === undefined || options.keys.length === 0) && options.jwks === undefined) {
    throw new TypeError("jwt: configure keys or jwks");
  }
  const allowed = allowedAlgorithms(options);
  const remote = remoteKeySet(options);
  const clock = options.clock ?? systemClock;
  const maxLen = options.maxTokenLength ?? 8192;
  const realm = options.realm;

  const keysReady: Promise<KeyEntry[]> = importStaticKeys(options.keys ?? []);
  keysReady.catch(() => {}); // surfaced by ready() and verify(); avoid an unhandled rejection

  // The remote set rethrows fetch problems raw; tag them so they map to 503, not 401.
  const remoteGetter =
    remote === undefined
      ? undefined
      : async (...args: Parameters<RemoteJWKSet>) => {
          try {
            return await remote(...args);
          } catch (e) {
            if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
            throw new KeySourceError(e);
          }
        };

  const baseVerifyOptions = (): JWTVerifyOptions => {
    const v: JWTVerifyOptions = {
      algorithms: [...allowed],
      clockTolerance: options.clockToleranceSec ?? 30,
      currentDate: new Date(clock.now()),
    };
    if (options.issuer !== undefined) v.issuer = typeof options.issuer === "string" ? options.issuer : [...options.issuer];
    if (options.audience !== undefined) v.audience = typeof options.audience === "string" ? options.audience : [...options.audience];
    if (options.requireExp ?? true) v.requiredClaims = ["exp"];
    if (options.maxTokenAgeSec !== undefined) v.maxTokenAge = options.maxTokenAgeSec;
    if (options.typ !== undefined) v.typ = options.typ;
    return v;
  };

  const unauthorized = (c: Classified): AuthResult => ({
    ok: false,
    status: 401,
    error: "invalid_token",
    reason: c.reason,
    description: c.description,
    wwwAuthenticate: formatWwwAuthenticate({ ...(realm !== undefined ? { realm } : {}), error: "invalid_token", description: c.description }),
  });

  const fail = (c: Classified): AuthResult =>
    c.reason === "key_source_unavailable"
      ? { ok: false, status: 503, error: "temporarily_unavailable", reason: c.reason, description: c.description }
      : unauthorized(c);

  async function verifySignature(token: string, alg: string, kid: string | undefined): Promise<JwtClaims> {
    // A key import failure is a config problem, not the client's: report it as unavailable.
    const entries = await keysReady.catch((e: unknown) => {
      throw new KeySourceError(e);
    });
    const candidates = selectKeys(entries, alg, kid).slice(0, MAX_KEY_CANDIDATES);
    const opts = baseVerifyOptions();
    if (candidates.length > 0) {
      for (let i = 0; ; i++) {
        try {
          return (await jwtVerify(token, candidates[i]!.key, opts)).payload;
        } catch (e) {
          // Only a bad signature means "maybe another key"; claim failures are final.
          if (!(e instanceof errors.JWSSignatureVerificationFailed) || i === candidates.length - 1) throw e;
        }
      }
    }
    if (remoteGetter !== undefined) return (await jwtVerify(token, remoteGetter, opts)).payload;
    throw new errors.JWKSNoMatchingKey();
  }

  async function verify(input: string | null | undefined, req: AuthRequirement): Promise<AuthResult> {
    if (req.mode === "none") return { ok: true, claims: null };
    const ex = extractBearer(input);
    if (ex.kind === "none" || ex.kind === "other_scheme") {
      if (req.mode === "optional") return { ok: true, claims: null };
      // RFC 6750 §3.1: with no credentials at all, the challenge carries no error code.
      return {
        ok: false,
        status: 401,
        error: "missing_token",
        reason: "missing",
        description: "bearer token required",
        wwwAuthenticate: formatWwwAuthenticate(realm !== undefined ? { realm } : {}),
      };
    }
    if (ex.kind === "malformed") return unauthorized({ reason: "malformed", description: "malformed authorization header" });
    const token = ex.token;
    if (token.length > maxLen) return unauthorized({ reason: "too_large", description: "token too large" });

    let alg: unknown;
    let kid: unknown;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
    } catch {
      return unauthorized({ reason: "malformed", description: "malformed token" });
    }
    // Checked before any key work: "none" and unlisted algs never reach a key (RFC 8725 §3.1).
    if (typeof alg !== "string" || !allowed.has(alg)) return unauthorized({ reason: "alg_not_allowed", description: "algorithm not allowed" });
    if (kid !== undefined && typeof kid !== "string") return unauthorized({ reason: "malformed", description: "malformed token" });

    let claims: JwtClaims;
    try {
      claims = await verifySignature(token, alg, kid);
    } catch (e) {
      return fail(classifyJoseError(e));
    }

    const check = checkRequirement(claims, req);
    if (check.ok) return { ok: true, claims };
    const description = check.kind === "scope" ? `missing scope: ${check.missing.join(" ")}` : `claim "${check.claim}" not satisfied`;
    return {
      ok: false,
      status: 403,
      error: "insufficient_scope",
      reason: check.kind === "scope" ? "scope_missing" : "claim_mismatch",
      description,
      wwwAuthenticate: formatWwwAuthenticate({
        ...(realm !== undefined ? { realm } : {}),
        error: "insufficient_scope",
        description,
        ...(req.scopes !== undefined ? { scope: req.scopes } : {}),
      }),
    };
  }

  return {
    verify: async (input, req) => {
      try {
        return await verify(input, req);
      } catch {
        // Unreachable by design (verify catches jose errors); still never throw into the request path.
        return fail({ reason: "key_source_unavailable", description: "verifier error" });
      }
    },
    ready: async () => {
      await keysReady;
    },
  };
}
