import { beforeAll, describe, expect, test } from "bun:test";
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";
import { createJwtVerifier, type AuthRequirement, type AuthResult, type JwtVerifier } from "./index.ts";

const ISS = "https://idp.test";
const AUD = "sluice";
const SECRET = "0123456789abcdef0123456789abcdef-hs256-test-secret";
const REQUIRED: AuthRequirement = { mode: "required" };

let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let rsaOther: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
let rsaPem = "";
let verifier: JwtVerifier;

const now = () => Math.floor(Date.now() / 1000);

async function sign(
  claims: JWTPayload,
  alg: string,
  key: CryptoKey | Uint8Array,
  opts: { kid?: string; iss?: string | null; aud?: string | null; exp?: number | null } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader(opts.kid === undefined ? { alg } : { alg, kid: opts.kid }).setIssuedAt();
  if (opts.iss !== null) jwt.setIssuer(opts.iss ?? ISS);
  if (opts.aud !== null) jwt.setAudience(opts.aud ?? AUD);
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now() + 300);
  return jwt.sign(key);
}

const hs = (claims: JWTPayload = { sub: "u1" }, opts = {}) => sign(claims, "HS256", new TextEncoder().encode(SECRET), opts);

function failure(r: AuthResult): Extract<AuthResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ok with ${JSON.stringify(r.claims)}`);
  return r;
}

beforeAll(async () => {
  rsa = await generateKeyPair("RS256");
  rsaOther = await generateKeyPair("RS256");
  ec = await generateKeyPair("ES256", { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  verifier = createJwtVerifier({
    keys: [{ secret: SECRET }, { spki: rsaPem, alg: "RS256" }, { jwk: { ...(await exportJWK(ec.publicKey)), alg: "ES256" } }],
    issuer: ISS,
    audience: AUD,
    realm: "sluice",
  });
  await verifier.ready();
});

describe("valid tokens", () => {
  test("HS256 with a shared secret", async () => {
    const r = await verifier.verify(`Bearer ${await hs({ sub: "u1", tenant: "t9" })}`, REQUIRED);
    expect(r.ok).toBe(true);
    expect(r.ok && r.claims).toMatchObject({ sub: "u1", tenant: "t9", iss: ISS, aud: AUD });
  });

  test("RS256 with a SPKI PEM key", async () => {
    const r = await verifier.verify(`Bearer ${await sign({ sub: "rs" }, "RS256", rsa.privateKey)}`, REQUIRED);
    expect(r.ok && r.claims?.sub).toBe("rs");
  });

  test("ES256 with a JWK", async () => {
    const r = await verifier.verify(`bearer   ${await sign({ sub: "es" }, "ES256", ec.privateKey)}`, REQUIRED);
    expect(r.ok && r.claims?.sub).toBe("es");
  });

  test("a bare token (no scheme) is accepted", async () => {
    const r = await verifier.verify(await hs(), REQUIRED);
    expect(r.ok).toBe(true);
  });
});

describe("rejected tokens", () => {
  test('alg "none" (hand-built unsecured JWT) is rejected before any key lookup', async () => {
    const enc = (o: object) => base64url.encode(new TextEncoder().encode(JSON.stringify(o)));
    const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: "admin", iss: ISS, aud: AUD, exp: now() + 300 })}.`;
    const f = failure(await verifier.verify(`Bearer ${token}`, REQUIRED));
    expect(f.status).toBe(401);
    expect(f.error).toBe("invalid_token");
    expect(f.reason).toBe("alg_not_allowed");
    expect(f.wwwAuthenticate).toBe('Bearer realm="sluice", error="invalid_token", error_description="algorithm not allowed"');
    // Also with a signature part and a capitalized "None".
    const f2 = failure(await verifier.verify(`${enc({ alg: "None" })}.${enc({ sub: "a" })}.c2ln`, REQUIRED));
    expect(f2.reason).toBe("alg_not_allowed");
  });

  test('"none" cannot be configured', () => {
    expect(() => createJwtVerifier({ keys: [{ secret: SECRET }], algorithms: ["none" as "HS256"] })).toThrow(/not allowed/);
  });

  test("alg not on the allow-list (RS256 key's PEM used as an HS256 secret: alg confusion)", async () => {
    const rsOnly = createJwtVerifier({ keys: [{ spki: rsaPem, alg: "RS256" }], issuer: ISS, audience: AUD });
    const forged = await sign({ sub: "admin" }, "HS256", new TextEncoder().encode(rsaPem));
    const f = failure(await rsOnly.verify(`Bearer ${forged}`, REQUIRED));
    expect(f.reason).toBe("alg_not_allowed");
    // The real RS256 token still verifies there.
    expect((await rsOnly.verify(await sign({ sub: "x" }, "RS256", rsa.privateKey), REQUIRED)).ok).toBe(true);
  });

  test("wrong key", async () => {
    const otherSecret = await sign({ sub: "u" }, "HS256", new TextEncoder().encode("another-secret-that-is-32-bytes-long!!"));
    expect(failure(await verifier.verify(otherSecret, REQUIRED)).reason).toBe("bad_signature");
    const otherRsa = await sign({ sub: "u" }, "RS256", rsaOther.privateKey);
    const f = failure(await verifier.verify(otherRsa, REQUIRED));
    expect(f.status).toBe(401);
    expect(f.reason).toBe("bad_signature");
  });

  test("tampered payload", async () => {
    const [h, , s] = (await hs({ sub: "user", role: "reader" })).split(".");
    const payload = base64url.encode(
      new TextEncoder().encode(JSON.stringify({ sub: "user", role: "admin", iss: ISS, aud: AUD, exp: now() + 300 })),
    );
    const f = failure(await verifier.verify(`Bearer ${h}.${payload}.${s}`, REQUIRED));
    expect(f.status).toBe(401);
    expect(f.reason).toBe("bad_signature");
  });

  test("expired (beyond the clock tolerance)", async () => {
    const f = failure(await verifier.verify(await hs({ sub: "u" }, { exp: now() - 120 }), REQUIRED));
    expect(f.reason).toBe("expired");
    expect(f.wwwAuthenticate).toContain('error_description="token expired"');
    // Within the default 30 s tolerance it is still accepted.
    expect((await verifier.verify(await hs({ sub: "u" }, { exp: now() - 5 }), REQUIRED)).ok).toBe(true);
  });

  test("the injected clock drives exp/nbf checks", async () => {
    const future = createJwtVerifier({ keys: [{ secret: SECRET }], clock: { now: () => Date.now() + 3_600_000 } });
    expect(failure(await future.verify(await hs(), REQUIRED)).reason).toBe("expired");
  });

  test("not yet valid", async () => {
    const f = failure(await verifier.verify(await hs({ sub: "u", nbf: now() + 600 }), REQUIRED));
    expect(f.reason).toBe("not_yet_valid");
    expect((await verifier.verify(await hs({ sub: "u", nbf: now() + 5 }), REQUIRED)).ok).toBe(true);
  });

  test("wrong audience, wrong issuer", async () => {
    expect(failure(await verifier.verify(await hs({}, { aud: "someone-else" }), REQUIRED)).reason).toBe("bad_audience");
    expect(failure(await verifier.verify(await hs({}, { aud: null }), REQUIRED)).reason).toBe("bad_audience");
    expect(failure(await verifier.verify(await hs({}, { iss: "https://evil.test" }), REQUIRED)).reason).toBe("bad_issuer");
  });

  test("exp is required by default", async () => {
    expect(failure(await verifier.verify(await hs({}, { exp: null }), REQUIRED)).reason).toBe("bad_claims");
    const lax = createJwtVerifier({ keys: [{ secret: SECRET }], requireExp: false });
    expect((await lax.verify(await hs({}, { exp: null }), REQUIRED)).ok).toBe(true);
  });

  test("malformed input", async () => {
    for (const bad of ["Bearer", "Bearer a b", "Bearer not!base64", "eyJ.eyJ.x", "a.b.c", "Bearer ...."]) {
      const f = failure(await verifier.verify(bad, REQUIRED));
      expect(f.status).toBe(401);
      expect(f.error).toBe("invalid_token");
      expect(f.reason).toBe("malformed");
    }
    const tooBig = failure(await verifier.verify(`Bearer ${"a".repeat(9000)}`, REQUIRED));
    expect(tooBig.reason).toBe("too_large");
  });
});

describe("modes and requirements", () => {
  test("required: no token -> 401 without an error code (RFC 6750 §3.1); other schemes count as no token", async () => {
    for (const h of [undefined, null, "", "Basic dXNlcjpwYXNz"]) {
      const f = failure(await verifier.verify(h, REQUIRED));
      expect(f.status).toBe(401);
      expect(f.error).toBe("missing_token");
      expect(f.wwwAuthenticate).toBe('Bearer realm="sluice"');
    }
  });

  test("optional: no token -> anonymous; a bad token is still rejected; a good one yields claims", async () => {
    expect(await verifier.verify(undefined, { mode: "optional" })).toEqual({ ok: true, claims: null });
    expect(failure(await verifier.verify("Bearer a.b.c", { mode: "optional" })).status).toBe(401);
    const r = await verifier.verify(await hs({ sub: "o" }), { mode: "optional" });
    expect(r.ok && r.claims?.sub).toBe("o");
  });

  test("none: never looks at the header", async () => {
    expect(await verifier.verify("Bearer garbage!", { mode: "none" })).toEqual({ ok: true, claims: null });
  });

  test("missing or mismatching claim -> 403 insufficient_scope", async () => {
    const token = await hs({ sub: "u", tenant: "acme", roles: ["reader", "writer"], email_verified: true, realm_access: { roles: ["ops"] } });
    const ok = await verifier.verify(token, {
      mode: "required",
      claims: { tenant: "acme", roles: "writer", email_verified: true, sub: { exists: true }, "realm_access.roles": ["admin", "ops"] },
    });
    expect(ok.ok).toBe(true);

    const missing = failure(await verifier.verify(token, { mode: "required", claims: { department: { exists: true } } }));
    expect(missing.status).toBe(403);
    expect(missing.error).toBe("insufficient_scope");
    expect(missing.reason).toBe("claim_mismatch");
    expect(missing.wwwAuthenticate).toBe('Bearer realm="sluice", error="insufficient_scope", error_description="claim department not satisfied"');

    const wrong = failure(await verifier.verify(token, { mode: "required", claims: { tenant: "globex" } }));
    expect(wrong.status).toBe(403);
    expect(failure(await verifier.verify(token, { mode: "required", claims: { roles: ["admin"] } })).status).toBe(403);
    expect(failure(await verifier.verify(token, { mode: "required", claims: { email_verified: "true" } })).status).toBe(403);
  });

  test("scopes from 'scope' (space-separated) and 'scp' (array); missing -> 403 with scope attribute", async () => {
    const spaced = await hs({ scope: "users:read  orders:read" });
    const arr = await hs({ scp: ["users:read", "users:write"] });
    expect((await verifier.verify(spaced, { mode: "required", scopes: ["users:read", "orders:read"] })).ok).toBe(true);
    expect((await verifier.verify(arr, { mode: "required", scopes: ["users:write"] })).ok).toBe(true);
    const f = failure(await verifier.verify(spaced, { mode: "required", scopes: ["users:read", "users:write"] }));
    expect(f.status).toBe(403);
    expect(f.reason).toBe("scope_missing");
    expect(f.description).toBe("missing scope: users:write");
    expect(f.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(f.wwwAuthenticate).toContain('scope="users:read users:write"');
    expect(failure(await verifier.verify(await hs({}), { mode: "required", scopes: ["x"] })).status).toBe(403);
  });
});

describe("keys and configuration", () => {
  test("kid selects among inline keys; an unknown kid fails; a token without kid tries each", async () => {
    const s1 = "first-secret-first-secret-first-secret!";
    const s2 = "second-secret-second-secret-second-secret";
    const v = createJwtVerifier({ keys: [{ secret: s1, kid: "k1" }, { secret: s2, kid: "k2" }] });
    const enc = (s: string) => new TextEncoder().encode(s);
    expect((await v.verify(await sign({}, "HS256", enc(s2), { kid: "k2" }), REQUIRED)).ok).toBe(true);
    expect(failure(await v.verify(await sign({}, "HS256", enc(s2), { kid: "k1" }), REQUIRED)).reason).toBe("bad_signature");
    expect(failure(await v.verify(await sign({}, "HS256", enc(s2), { kid: "k3" }), REQUIRED)).reason).toBe("no_matching_key");
    expect((await v.verify(await sign({}, "HS256", enc(s2)), REQUIRED)).ok).toBe(true);
  });

  test("bad key config: short HMAC secret, private JWK, nothing configured", async () => {
    const short = createJwtVerifier({ keys: [{ secret: "too-short" }] });
    await expect(short.ready()).rejects.toThrow(/at least 32 bytes/);
    // verify() never throws; a broken key config reports 503, not a client error.
    const f = failure(await short.verify(await hs(), REQUIRED));
    expect(f.status).toBe(503);
    const priv = createJwtVerifier({ keys: [{ jwk: { ...(await exportJWK(ec.privateKey)), alg: "ES256" } }] });
    await expect(priv.ready()).rejects.toThrow(/private JWK/);
    expect(() => createJwtVerifier({})).toThrow(/keys or jwks/);
    expect(() => createJwtVerifier({ jwks: { url: "ftp://x/jwks" } })).toThrow(/http/);
  });
});
