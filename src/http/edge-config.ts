// The edge config sections mapped to the options of the http/ pieces. Secrets named by environment
// variable or file are read here (at start-up and reload, never at import).
import type { AuthConfig, CorsConfig, RouteAuthConfig } from "../config/index.ts";
import type { AuthRequirement, JwsAlgorithm, JwtVerifierOptions, StaticKeyConfig } from "./auth/index.ts";
import type { CorsOptions } from "./middleware/cors.ts";

export interface SecretSource {
  env(name: string): string | undefined;
  readTextFile(path: string): Promise<string>;
}

export async function verifierOptions(a: AuthConfig, io: SecretSource): Promise<JwtVerifierOptions> {
  const keys: StaticKeyConfig[] = [];
  for (const [i, k] of a.keys.entries()) {
    const where = `auth.keys.${i}`;
    const kid = k.kid !== undefined ? { kid: k.kid } : {};
    const hmac = k.alg !== undefined ? { alg: k.alg as "HS256" | "HS384" | "HS512" } : {};
    if (k.secret !== undefined) keys.push({ secret: k.secret, ...hmac, ...kid });
    else if (k.secretEnv !== undefined) {
      const v = io.env(k.secretEnv);
      if (v === undefined || v === "") throw new Error(`${where}.secretEnv: environment variable ${k.secretEnv} is not set`);
      keys.push({ secret: v, ...hmac, ...kid });
    } else if (k.secretFile !== undefined) {
      keys.push({ secret: (await readFileAt(io, k.secretFile, `${where}.secretFile`)).trim(), ...hmac, ...kid });
    } else if (k.publicKey !== undefined || k.publicKeyFile !== undefined) {
      const pem = k.publicKey ?? (await readFileAt(io, k.publicKeyFile!, `${where}.publicKeyFile`));
      keys.push({ spki: pem, alg: k.alg as Exclude<JwsAlgorithm, "HS256" | "HS384" | "HS512">, ...kid });
    } else if (k.jwk !== undefined) {
      keys.push({ jwk: k.jwk, ...(k.alg !== undefined ? { alg: k.alg } : {}), ...kid });
    }
  }
  const o: JwtVerifierOptions = {
    keys,
    clockToleranceSec: a.clockSkew / 1000,
    requireExp: a.requireExp,
  };
  if (a.jwks !== undefined) o.jwks = { url: a.jwks.url, cooldownMs: a.jwks.cooldown, cacheMaxAgeMs: a.jwks.cacheMaxAge, timeoutMs: a.jwks.timeout };
  if (a.issuer !== undefined) o.issuer = a.issuer;
  if (a.audience !== undefined) o.audience = a.audience;
  if (a.algorithms !== undefined) o.algorithms = a.algorithms;
  if (a.maxTokenAge !== undefined) o.maxTokenAgeSec = a.maxTokenAge / 1000;
  if (a.realm !== undefined) o.realm = a.realm;
  return o;
}

async function readFileAt(io: SecretSource, path: string, where: string): Promise<string> {
  try {
    return await io.readTextFile(path);
  } catch (e) {
    throw new Error(`${where}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** A route's own auth, or the section's default mode. */
export function authRequirement(route: RouteAuthConfig | undefined, a: AuthConfig): AuthRequirement {
  if (route === undefined) return { mode: a.mode };
  const r: AuthRequirement = { mode: route.mode };
  if ("claims" in route && route.claims !== undefined) r.claims = route.claims;
  if ("scopes" in route && route.scopes !== undefined) r.scopes = route.scopes;
  return r;
}

export function corsOptions(c: CorsConfig): CorsOptions {
  return {
    origins: c.origins,
    ...(c.methods !== undefined ? { methods: c.methods } : {}),
    ...(c.allowHeaders !== undefined ? { allowHeaders: c.allowHeaders } : {}),
    exposeHeaders: c.exposeHeaders,
    credentials: c.credentials,
    maxAgeSec: Math.round(c.maxAge / 1000),
  };
}
