// JWKS through the gateway: keys fetched from a local JWKS server, rotation picked up on an unknown
// kid, refetches rate-limited by the cooldown, an unreachable key set answered 503 (retryable).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";

const COOLDOWN_MS = 1000;
let jwks: Server;
let hits = 0;
let served: JWK[] = [];
let gw: Gateway;
let backend: DemoBackend;
const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};

async function makeKey(kid: string): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

function token(kid: string, signer = kid): Promise<string> {
  return new SignJWT({ sub: `user-${kid}` }).setProtectedHeader({ alg: "ES256", kid }).setExpirationTime("5m").sign(keys[signer]!.privateKey);
}

const echo = async (t: string) => (await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "x" }, { authorization: `Bearer ${t}` })).status;

beforeAll(async () => {
  await makeKey("k1");
  await makeKey("k2");
  jwks = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  const rt = await detectRuntime();
  backend = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS });
  gw = await startGateway({
    runtime: rt,
    logger: quietLogger(),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [DESCRIPTORS],
      upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
      services: [{ match: "*", upstream: "demo" }],
      auth: { jwks: { url: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, cooldown: COOLDOWN_MS } },
    }),
  });
});

afterAll(async () => {
  await gw.stop({ timeoutMs: 2000 });
  backend.kill();
  jwks.close();
});

describe("JWKS", () => {
  test("rotation: a new kid is fetched once the cooldown allows; unknown kids cannot force refetches", async () => {
    served = [keys["k1"]!.jwk];
    expect(await echo(await token("k1"))).toBe(200);
    expect(hits).toBe(1);

    // The issuer rotates in k2. Right after a fetch, an unknown kid does not trigger another one.
    served = [keys["k1"]!.jwk, keys["k2"]!.jwk];
    expect(await echo(await token("k2"))).toBe(401);
    const junk = await Promise.all(Array.from({ length: 20 }, (_, i) => token(`random-${i}`, "k1").then(echo)));
    expect(junk.every((s) => s === 401)).toBe(true);
    expect(hits).toBe(1);

    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 100));
    expect(await echo(await token("k2"))).toBe(200);
    expect(hits).toBe(2);
    expect(await echo(await token("k1"))).toBe(200);
    const junk2 = await Promise.all(Array.from({ length: 20 }, (_, i) => token(`again-${i}`, "k1").then(echo)));
    expect(junk2.every((s) => s === 401)).toBe(true);
    expect(hits).toBe(2);
  });

  test("an unreachable key set is 503 auth_keys_unavailable with Retry-After, not 401", async () => {
    const rt = await detectRuntime();
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const g = await startGateway({
      runtime: rt,
      logger: quietLogger(),
      config: parseConfig({
        listen: { host: "127.0.0.1", port: 0 },
        descriptors: [DESCRIPTORS],
        upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
        services: [{ match: "*", upstream: "demo" }],
        auth: { jwks: { url: `http://127.0.0.1:${deadPort}/jwks.json`, timeout: "1s" } },
      }),
    });
    try {
      const r = await postJson(`${g.url}/demo.v1.EchoService/Echo`, {}, { authorization: `Bearer ${await token("k1")}` });
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ code: "UNAVAILABLE", reason: "auth_keys_unavailable" });
      expect(r.headers.get("retry-after")).toBe("1");
    } finally {
      await g.stop({ timeoutMs: 1000 });
    }
  });
});
