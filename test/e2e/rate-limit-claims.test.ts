// Rate limits keyed on a verified JWT claim, end to end with real HS256 and RS256 tokens (jose):
// each user has their own bucket, one exhausting it (429 + Retry-After) leaves the other alone, and
// a client-sent x-jwt-sub header moves no one into another bucket, neither with the first-class
// "claim:sub" key nor with "metadata:x-jwt-sub" (the forwarded claim).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

const ISS = "https://idp.test";
const AUD = "sluice-api";
const HS_SECRET = "hs256-secret-for-rate-limit-tests-0123456789";
const BURST = 3;

let backend: GrpcServer;
let gw: Gateway;
let rsaKey: CryptoKey;
/** x-jwt-sub as the backend received it, per call. */
const subs: string[] = [];

function token(sub: string, alg: "HS256" | "RS256"): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg, kid: alg === "HS256" ? "hs" : "rs" })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(alg === "HS256" ? new TextEncoder().encode(HS_SECRET) : rsaKey);
}

beforeAll(async () => {
  const rt = await detectRuntime();
  const record = (ctx: HandlerContext) => subs.push(ctx.metadata["x-jwt-sub"] ?? "");
  backend = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string }, ctx: HandlerContext) => (record(ctx), { text: req.text }),
        "market.v1.MarketService/GetOrder": async (req: { clientOrderId: string }, ctx: HandlerContext) => (record(ctx), { clientOrderId: req.clientOrderId }),
      },
    },
  });
  const rs = await generateKeyPair("RS256");
  rsaKey = rs.privateKey;
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.port}`] }],
    services: [{ match: "*", upstream: "demo" }],
    auth: {
      issuer: ISS,
      audience: AUD,
      keys: [
        { kid: "hs", alg: "HS256", secret: HS_SECRET },
        { kid: "rs", alg: "RS256", publicKey: await exportSPKI(rs.publicKey) },
      ],
      forwardClaims: ["sub"],
    },
    // Listed on purpose: reserved claim headers must still never come from the client.
    headers: { forward: ["x-jwt-*"] },
    // ~No refill during the test (one token per 1000 s): only the burst counts.
    routes: [
      { method: "demo.v1.EchoService/Echo", rateLimit: { ratePerSec: 0.001, burst: BURST, key: "claim:sub" } },
      { method: "market.v1.MarketService/GetOrder", rateLimit: { ratePerSec: 0.001, burst: BURST, key: "metadata:x-jwt-sub" } },
    ],
  });
  gw = await startGateway({ config, runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  await gw?.stop();
  backend?.destroy();
});

const echo = (tok: string, text: string, headers: Record<string, string> = {}) =>
  postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text }, { authorization: `Bearer ${tok}`, ...headers });
const getOrder = (tok: string, id: string, headers: Record<string, string> = {}) =>
  postJson(`${gw.url}/market.v1.MarketService/GetOrder`, { clientOrderId: id }, { authorization: `Bearer ${tok}`, ...headers });

function expect429(r: { status: number; json: any; headers: Headers }): void {
  expect(r.status).toBe(429);
  expect(r.json.reason).toBe("rate_limited");
  expect(r.json.code).toBe("RESOURCE_EXHAUSTED");
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

describe('rateLimit.key "claim:sub"', () => {
  test("alice (HS256) exhausts her bucket: 429 with Retry-After; bob (RS256) is unaffected; alice's RS256 token shares her bucket", async () => {
    const alice = await token("alice", "HS256");
    const bob = await token("bob", "RS256");
    const served = subs.length;
    const a = [];
    for (let i = 0; i <= BURST; i++) a.push(await echo(alice, `a${i}`));
    expect(a.slice(0, BURST).map((r) => r.status)).toEqual(Array(BURST).fill(200));
    expect429(a[BURST]!);
    for (let i = 0; i < BURST; i++) expect((await echo(bob, `b${i}`)).status).toBe(200);
    // The bucket is the user's, not the token's.
    expect429(await echo(await token("alice", "RS256"), "a-rs"));
    // Refused calls never reached the backend: BURST for alice, BURST for bob.
    expect(subs.slice(served)).toEqual([...Array(BURST).fill("alice"), ...Array(BURST).fill("bob")]);
  });

  test("a spoofed x-jwt-sub header changes no bucket", async () => {
    const carol = await token("carol", "HS256");
    const dave = await token("dave", "HS256");
    for (let i = 0; i < BURST; i++) expect((await echo(carol, `c${i}`)).status).toBe(200);
    expect429(await echo(carol, "c-next"));
    // carol pretends to be someone else: still her (empty) bucket.
    expect429(await echo(carol, "c-spoof", { "x-jwt-sub": "dave" }));
    expect429(await echo(carol, "c-spoof2", { "x-jwt-sub": "nobody-yet" }));
    // dave claiming to be carol keeps his own (full) bucket, and the backend sees his verified sub.
    const served = subs.length;
    expect((await echo(dave, "d0", { "x-jwt-sub": "carol" })).status).toBe(200);
    expect(subs.slice(served)).toEqual(["dave"]);
  });
});

describe('rateLimit.key "metadata:x-jwt-sub" (the forwarded claim)', () => {
  test("per user, and a client-sent x-jwt-sub is stripped before it could key the bucket", async () => {
    const erin = await token("erin", "RS256");
    const frank = await token("frank", "HS256");
    for (let i = 0; i < BURST; i++) expect((await getOrder(erin, `e${i}`, { "x-jwt-sub": `fake-${i}` })).status).toBe(200);
    expect429(await getOrder(erin, "e-next", { "x-jwt-sub": "fake-next" }));
    const served = subs.length;
    expect((await getOrder(frank, "f0", { "x-jwt-sub": "erin" })).status).toBe(200);
    expect(subs.slice(served)).toEqual(["frank"]);
  });
});
