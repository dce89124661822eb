// JWT authentication end to end: gateway in-process, a grpc-js backend recording the metadata it
// receives. Keys come from an environment variable (HS256), a PEM file (RS256) and a JWK (ES256).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { scrape } from "../helpers/prometheus.ts";
import { TEST_DESCRIPTORS as DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

const ISS = "https://idp.test";
const AUD = "sluice-api";
const HS_SECRET = "hs256-secret-for-tests-0123456789abcdef";
const ENV_NAME = "SLUICE_TEST_HS256_SECRET";

let gw: Gateway;
let backend: Awaited<ReturnType<typeof startGrpcJsServer>>;
let dir: string;
const seen: Record<string, unknown>[] = [];
let rsa: { privateKey: CryptoKey; pem: string };
let otherRsa: CryptoKey;
let ec: CryptoKey;

const nowSec = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  alg?: string;
  kid?: string;
  key?: CryptoKey | Uint8Array;
  claims?: Record<string, unknown>;
  iss?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
}

function sign(o: TokenOptions = {}): Promise<string> {
  const alg = o.alg ?? "HS256";
  const key = o.key ?? new TextEncoder().encode(HS_SECRET);
  const jwt = new SignJWT({ sub: "user-1", tenant: "acme", ...o.claims })
    .setProtectedHeader({ alg, kid: o.kid ?? "hs" })
    .setIssuer(o.iss ?? ISS)
    .setAudience(o.aud ?? AUD)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? nowSec() + 300);
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  return jwt.sign(key);
}

const b64url = (s: string) => Buffer.from(s).toString("base64url");

const call = (method: string, token?: string, headers: Record<string, string> = {}) =>
  postJson(`${gw.url}/testdata.v1.MappingService/${method}`, {}, { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers });

beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  const record = (call: { metadata: grpc.Metadata }) => seen.push(call.metadata.getMap() as Record<string, unknown>);
  backend = await startGrpcJsServer(registry, {
    "testdata.v1.MappingService": {
      Roundtrip: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => (record(c), cb(null, c.request)),
      GetThing: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => (record(c), cb(null, {})),
      UpdateThing: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => (record(c), cb(null, {})),
      ThingName: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => (record(c), cb(null, {})),
    },
  });

  const rs = await generateKeyPair("RS256");
  rsa = { privateKey: rs.privateKey, pem: await exportSPKI(rs.publicKey) };
  otherRsa = (await generateKeyPair("RS256")).privateKey;
  const es = await generateKeyPair("ES256");
  ec = es.privateKey;
  dir = mkdtempSync(join(tmpdir(), "sluice-auth-"));
  const pemPath = join(dir, "rs.pem");
  writeFileSync(pemPath, rsa.pem);
  process.env[ENV_NAME] = HS_SECRET;

  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "grpcjs", endpoints: [`127.0.0.1:${backend.port}`] }],
    services: [{ match: "testdata.v1.*", upstream: "grpcjs" }],
    auth: {
      realm: "sluice-test",
      issuer: ISS,
      audience: AUD,
      keys: [
        { kid: "hs", secretEnv: ENV_NAME },
        { kid: "rs", alg: "RS256", publicKeyFile: pemPath },
        { kid: "es", jwk: { ...(await exportJWK(es.publicKey)), alg: "ES256" } },
      ],
      forwardClaims: ["sub", "tenant"],
    },
    // x-jwt-* is listed on purpose: reserved claim names must still never come from the client.
    headers: { forward: ["x-tenant-hint", "x-jwt-*"] },
    routes: [
      { method: "testdata.v1.MappingService/UpdateThing", auth: { scopes: ["things:write"], claims: { tenant: ["acme", "globex"] } } },
      { method: "testdata.v1.MappingService/GetThing", auth: "optional" },
      { method: "testdata.v1.MappingService/ThingName", auth: "none" },
    ],
  });
  gw = await startGateway({ config, runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  await gw.stop({ timeoutMs: 2000 });
  backend.server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[ENV_NAME];
});

function expect401(r: { status: number; json: any; headers: Headers }, description: string): void {
  expect(r.status).toBe(401);
  expect(r.json.code).toBe("UNAUTHENTICATED");
  expect(r.json.reason).toBe("unauthenticated");
  expect(r.json.message).toBe(description);
  expect(r.json.request_id).toBe(r.headers.get("x-request-id"));
  expect(r.json.trace_id).toMatch(/^[0-9a-f]{32}$/);
  expect(r.headers.get("www-authenticate")).toBe(`Bearer realm="sluice-test", error="invalid_token", error_description="${description}"`);
}

describe("JWT through the gateway", () => {
  test("HS256 (secret from env), RS256 (PEM file) and ES256 (JWK) tokens are accepted; claims arrive as metadata", async () => {
    for (const t of [await sign(), await sign({ alg: "RS256", kid: "rs", key: rsa.privateKey }), await sign({ alg: "ES256", kid: "es", key: ec, claims: { sub: "user-es" } })]) {
      seen.length = 0;
      const r = await call("Roundtrip", t);
      expect(r.status).toBe(200);
      expect(seen[0]!["x-jwt-tenant"]).toBe("acme");
      expect(seen[0]!["authorization"]).toBeUndefined();
    }
    expect(seen[0]!["x-jwt-sub"]).toBe("user-es");
  });

  test("no token: 401 with a bare challenge", async () => {
    const r = await call("Roundtrip");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toBe('Bearer realm="sluice-test"');
    expect(r.json).toMatchObject({ code: "UNAUTHENTICATED", reason: "unauthenticated", message: "bearer token required" });
  });

  test('alg "none" is rejected before any key is looked at', async () => {
    const payload = { sub: "admin", iss: ISS, aud: AUD, exp: nowSec() + 300 };
    const none = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}.`;
    expect401(await call("Roundtrip", none), "algorithm not allowed");
  });

  test("wrong keys, HS/RS confusion and tampering fail the signature check", async () => {
    expect401(await call("Roundtrip", await sign({ key: new TextEncoder().encode("another-secret-that-is-long-enough-0123") })), "signature verification failed");
    expect401(await call("Roundtrip", await sign({ alg: "RS256", kid: "rs", key: otherRsa })), "signature verification failed");
    // Classic algorithm confusion: HS256 keyed with the RSA public key, claiming the RSA key's kid.
    expect401(await call("Roundtrip", await sign({ alg: "HS256", kid: "rs", key: new TextEncoder().encode(rsa.pem) })), "no matching signing key");
    const [h, p, s] = (await sign()).split(".");
    const forged = JSON.parse(Buffer.from(p!, "base64url").toString());
    forged.sub = "admin";
    expect401(await call("Roundtrip", `${h}.${b64url(JSON.stringify(forged))}.${s}`), "signature verification failed");
  });

  test("expired, not yet valid, wrong audience, wrong issuer", async () => {
    // Beyond the default 30 s clock skew.
    expect401(await call("Roundtrip", await sign({ exp: nowSec() - 120 })), "token expired");
    expect401(await call("Roundtrip", await sign({ nbf: nowSec() + 600 })), "token not yet valid");
    expect401(await call("Roundtrip", await sign({ aud: "someone-else" })), "unexpected audience");
    expect401(await call("Roundtrip", await sign({ iss: "https://evil.test" })), "unexpected issuer");
    // Inside the skew: still fine.
    expect((await call("Roundtrip", await sign({ exp: nowSec() - 5 }))).status).toBe(200);
  });

  test("valid token without the required scope or claim: 403 insufficient_scope", async () => {
    const noScope = await call("UpdateThing", await sign());
    expect(noScope.status).toBe(403);
    expect(noScope.json).toMatchObject({ code: "PERMISSION_DENIED", reason: "forbidden", message: "missing scope: things:write" });
    expect(noScope.headers.get("www-authenticate")).toBe('Bearer realm="sluice-test", error="insufficient_scope", error_description="missing scope: things:write", scope="things:write"');
    const wrongTenant = await call("UpdateThing", await sign({ claims: { scope: "things:read things:write", tenant: "initech" } }));
    expect(wrongTenant.status).toBe(403);
    expect(wrongTenant.json.message).toBe('claim "tenant" not satisfied');
    seen.length = 0;
    const ok = await call("UpdateThing", await sign({ claims: { scope: "things:read things:write", tenant: "globex" } }));
    expect(ok.status).toBe(200);
    expect(seen[0]!["x-jwt-tenant"]).toBe("globex");
  });

  test("optional route: anonymous passes without claim metadata; spoofed claim headers never reach the backend", async () => {
    seen.length = 0;
    const r = await call("GetThing", undefined, { "x-jwt-sub": "admin", "x-jwt-tenant": "root", "x-tenant-hint": "h1" });
    expect(r.status).toBe(200);
    expect(seen[0]!["x-jwt-sub"]).toBeUndefined();
    expect(seen[0]!["x-jwt-tenant"]).toBeUndefined();
    expect(seen[0]!["x-tenant-hint"]).toBe("h1");
    seen.length = 0;
    const withToken = await call("GetThing", await sign(), { "x-jwt-sub": "admin" });
    expect(withToken.status).toBe(200);
    expect(seen[0]!["x-jwt-sub"]).toBe("user-1");
    // A token that is presented is checked, even where it is optional.
    expect401(await call("GetThing", await sign({ exp: nowSec() - 120 })), "token expired");
  });

  test("mode none: no check at all", async () => {
    const r = await call("ThingName", "not-a-jwt");
    expect(r.status).toBe(200);
  });

  test("admin endpoints are not behind auth", async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
  });

  test("failures are counted by reason", async () => {
    const m = await scrape(gw.url);
    expect(m.value("sluice_auth_failures_total", { reason: "missing" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "alg_not_allowed" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "bad_signature" })).toBe(3);
    expect(m.value("sluice_auth_failures_total", { reason: "no_matching_key" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "expired" })).toBe(2);
    expect(m.value("sluice_auth_failures_total", { reason: "not_yet_valid" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "bad_audience" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "bad_issuer" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "scope_missing" })).toBe(1);
    expect(m.value("sluice_auth_failures_total", { reason: "claim_mismatch" })).toBe(1);
    // Refused requests never reached the backend.
    expect(m.value("sluice_http_requests_total", { route: "testdata.v1.MappingService/Roundtrip", method: "POST", status: "401" })).toBe(10);
    expect(m.sum("sluice_upstream_calls_total", { method: "testdata.v1.MappingService/Roundtrip" })).toBe(4);
  });
});
