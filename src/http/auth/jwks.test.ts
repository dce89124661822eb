import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { createJwtVerifier, type AuthRequirement, type AuthResult } from "./index.ts";

// A local JWKS endpoint whose key set the test rotates, counting every fetch.
let server: Server;
let jwksUrl = "";
let hits = 0;
let served: JWK[] = [];
let failWith: number | undefined;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}
let keyA: SigningKey;
let keyB: SigningKey;

const REQUIRED: AuthRequirement = { mode: "required" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function makeKey(kid: string, alg: "RS256" | "ES256"): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function token(key: SigningKey, kid = key.kid): Promise<string> {
  return new SignJWT({ sub: `user-of-${kid}` })
    .setProtectedHeader({ alg: key.jwk.alg!, kid })
    .setIssuer("https://idp.test")
    .setExpirationTime("5m")
    .sign(key.privateKey);
}

function okSub(r: AuthResult): string | undefined {
  return r.ok ? (r.claims?.sub as string) : `failed: ${r.reason}`;
}

beforeAll(async () => {
  keyA = await makeKey("key-a", "RS256");
  keyB = await makeKey("key-b", "ES256");
  server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    hits++;
    if (failWith !== undefined) {
      res.writeHead(failWith).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  hits = 0;
  served = [keyA.jwk];
  failWith = undefined;
});

describe("JWKS via createRemoteJWKSet", () => {
  test("keys are cached: repeated verifications fetch once", async () => {
    const v = createJwtVerifier({ jwks: { url: jwksUrl }, issuer: "https://idp.test" });
    for (let i = 0; i < 5; i++) expect(okSub(await v.verify(`Bearer ${await token(keyA)}`, REQUIRED))).toBe("user-of-key-a");
    expect(hits).toBe(1);
  });

  test("unknown-kid refetches are rate limited by the cooldown", async () => {
    const v = createJwtVerifier({ jwks: { url: jwksUrl, cooldownMs: 60_000 } });
    expect(okSub(await v.verify(await token(keyA), REQUIRED))).toBe("user-of-key-a");
    expect(hits).toBe(1);
    served = [keyA.jwk, keyB.jwk]; // rotation happened, but we fetched just now
    const r = await v.verify(await token(keyB), REQUIRED);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.status).toBe(401);
    expect(!r.ok && r.reason).toBe("no_matching_key");
    // A burst of random kids (an attacker probing) costs no fetches while cooling down.
    const burst = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => v.verify(await token(keyB, `random-${i}`), REQUIRED)),
    );
    expect(burst.every((x) => !x.ok && x.status === 401)).toBe(true);
    expect(hits).toBe(1);
  });

  test("rotation: a new kid verifies after the cooldown, with exactly one refetch", async () => {
    const cooldownMs = 1000;
    const v = createJwtVerifier({ jwks: { url: jwksUrl, cooldownMs } });
    expect(okSub(await v.verify(await token(keyA), REQUIRED))).toBe("user-of-key-a");
    expect(hits).toBe(1);

    served = [keyA.jwk, keyB.jwk];
    await sleep(cooldownMs + 200);
    expect(okSub(await v.verify(await token(keyB), REQUIRED))).toBe("user-of-key-b");
    expect(hits).toBe(2);
    // Both keys are now cached.
    expect(okSub(await v.verify(await token(keyA), REQUIRED))).toBe("user-of-key-a");
    expect(okSub(await v.verify(await token(keyB), REQUIRED))).toBe("user-of-key-b");
    expect(hits).toBe(2);

    // Right after a fetch, unknown kids are refused without fetching.
    expect((await v.verify(await token(keyB, "unknown-1"), REQUIRED)).ok).toBe(false);
    expect(hits).toBe(2);

    // After the cooldown, concurrent unknown kids share a single refetch.
    await sleep(cooldownMs + 200);
    const tokens = await Promise.all(Array.from({ length: 5 }, (_, i) => token(keyB, `unknown-${i + 2}`)));
    const results = await Promise.all(tokens.map((t) => v.verify(t, REQUIRED)));
    expect(results.every((x) => !x.ok && x.reason === "no_matching_key")).toBe(true);
    expect(hits).toBe(3);
  }, 10_000);

  test("a retired key stops verifying once the cache expires", async () => {
    const v = createJwtVerifier({ jwks: { url: jwksUrl, cacheMaxAgeMs: 300, cooldownMs: 0 } });
    expect(okSub(await v.verify(await token(keyA), REQUIRED))).toBe("user-of-key-a");
    served = [keyB.jwk];
    await sleep(400);
    const r = await v.verify(await token(keyA), REQUIRED);
    expect(!r.ok && r.reason).toBe("no_matching_key");
    expect(hits).toBeGreaterThanOrEqual(2);
  });

  test("an unavailable key set is a 503, not a client error", async () => {
    failWith = 500;
    const v = createJwtVerifier({ jwks: { url: jwksUrl } });
    const r = await v.verify(await token(keyA), REQUIRED);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.status).toBe(503);
    expect(!r.ok && r.error).toBe("temporarily_unavailable");
    expect(!r.ok && r.wwwAuthenticate).toBeUndefined();

    const tmp = createServer();
    await new Promise<void>((res) => tmp.listen(0, "127.0.0.1", res));
    const deadPort = (tmp.address() as AddressInfo).port;
    await new Promise<void>((res) => tmp.close(() => res()));
    const dead = createJwtVerifier({ jwks: { url: `http://127.0.0.1:${deadPort}/jwks`, timeoutMs: 2000 } });
    const d = await dead.verify(await token(keyA), REQUIRED);
    expect(!d.ok && d.status).toBe(503);
  });

  test("inline keys and a JWKS together: inline match first, JWKS otherwise", async () => {
    const secret = "inline-secret-inline-secret-inline-secret";
    const v = createJwtVerifier({ keys: [{ secret }], jwks: { url: jwksUrl } });
    const hsToken = await new SignJWT({ sub: "inline" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(secret));
    expect(okSub(await v.verify(hsToken, REQUIRED))).toBe("inline");
    expect(hits).toBe(0);
    expect(okSub(await v.verify(await token(keyA), REQUIRED))).toBe("user-of-key-a");
    expect(hits).toBe(1);
  });
});
