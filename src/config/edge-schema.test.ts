import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig, type ConfigInput } from "./index.ts";

const base: ConfigInput = {
  descriptors: ["idl/descriptors.binpb"],
  upstreams: [{ name: "demo", endpoints: ["127.0.0.1:50051"] }],
  services: [{ match: "*", upstream: "demo" }],
};

function issues(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

describe("edge config sections", () => {
  test("absent sections get their defaults; auth and cors stay off", () => {
    const c = parseConfig(base);
    expect(c.auth).toBeUndefined();
    expect(c.cors).toBeUndefined();
    expect(c.headers.forward).toEqual([]);
    expect(c.metrics.enabled).toBe(true);
    expect(c.tracing).toEqual({ serviceName: "sluice", sampleRatio: 1 });
    expect(c.logging).toEqual({ level: "info", accessLog: true });
    expect(c.shutdown).toEqual({ drainDelay: 0, timeout: 15_000 });
    expect(c.reload).toEqual({ watch: true, interval: 2_000 });
  });

  test("a full auth section: durations parsed, route auth shorthand and object forms", () => {
    const c = parseConfig({
      ...base,
      auth: {
        issuer: "https://issuer.example",
        audience: ["api"],
        algorithms: ["HS256", "RS256"],
        clockSkew: "5s",
        keys: [{ kid: "a", secret: "x".repeat(32) }, { kid: "b", alg: "RS256", publicKeyFile: "/keys/b.pem" }],
        jwks: { url: "https://issuer.example/jwks.json", cooldown: "10s" },
        forwardClaims: ["sub", "tenant"],
      },
      routes: [
        { method: "shop.v1.Public/*", auth: "none" },
        { method: "shop.v1.Orders/*", auth: { scopes: ["orders:write"], claims: { tenant: { exists: true }, role: ["admin", "ops"] } } },
      ],
    });
    expect(c.auth?.mode).toBe("required");
    expect(c.auth?.clockSkew).toBe(5_000);
    expect(c.auth?.jwks).toEqual({ url: "https://issuer.example/jwks.json", cooldown: 10_000, cacheMaxAge: 600_000, timeout: 5_000 });
    expect(c.routes[0]!.auth).toEqual({ mode: "none" });
    expect(c.routes[1]!.auth).toEqual({ mode: "required", scopes: ["orders:write"], claims: { tenant: { exists: true }, role: ["admin", "ops"] } });
  });

  test('"none" is not an algorithm', () => {
    const got = issues({ ...base, auth: { algorithms: ["none"], keys: [{ secret: "x".repeat(32) }] } });
    expect(got.some((i) => i.startsWith("auth.algorithms.0:"))).toBe(true);
  });

  test("a key needs exactly one source, and public keys their algorithm", () => {
    expect(issues({ ...base, auth: { keys: [{ secret: "x".repeat(32), publicKey: "pem" }] } })).toEqual([
      "auth.keys.0: give exactly one of secret, secretEnv, secretFile, publicKey, publicKeyFile, jwk (got secret, publicKey)",
    ]);
    expect(issues({ ...base, auth: { keys: [{ publicKey: "pem" }] } })[0]).toStartWith("auth.keys.0.alg: a public key needs its algorithm");
    expect(issues({ ...base, auth: { keys: [{ secret: "s".repeat(32), alg: "RS256" }] } })[0]).toStartWith("auth.keys.0.alg: a secret is used with");
    expect(issues({ ...base, auth: { keys: [{ jwk: { kty: "EC", d: "private" } }] } })[0]).toStartWith("auth.keys.0.jwk: this is a private JWK");
    expect(issues({ ...base, auth: {} })).toEqual(["auth: configure keys or jwks"]);
  });

  test("route auth without an auth section is refused with its path", () => {
    expect(issues({ ...base, routes: [{ method: "a.B/C" }, { method: "a.B/D", auth: "required" }] })).toEqual([
      'routes.1.auth: mode "required" needs a top-level auth section with keys or jwks',
    ]);
    expect(issues({ ...base, routes: [{ method: "a.B/D", auth: "none" }] })).toEqual([]);
  });

  test("cors: credentials cannot go with any origin; header names are lower-cased", () => {
    expect(issues({ ...base, cors: { origins: "*", credentials: true } })).toEqual(['cors.credentials: credentials cannot be used with origins "*"; list the origins']);
    const c = parseConfig({ ...base, cors: { origins: ["https://app.example"], allowHeaders: ["Content-Type", "X-Request-Id"] }, headers: { forward: ["X-Tenant-Id", "x-b3-*"] } });
    expect(c.cors?.allowHeaders).toEqual(["content-type", "x-request-id"]);
    expect(c.cors?.exposeHeaders).toEqual(["x-request-id"]);
    expect(c.headers.forward).toEqual(["x-tenant-id", "x-b3-*"]);
    expect(issues({ ...base, headers: { forward: ["bad header"] } })).toEqual(["headers.forward.0: expected an HTTP header name"]);
  });

  test("shutdown, reload, tracing and logging validate their values", () => {
    const c = parseConfig({ ...base, shutdown: { drainDelay: "5s", timeout: "20s" }, reload: { interval: "500ms" }, tracing: { sampleRatio: 0.25, otlp: { endpoint: "http://127.0.0.1:4318/v1/traces" } } });
    expect(c.shutdown).toEqual({ drainDelay: 5_000, timeout: 20_000 });
    expect(c.reload.interval).toBe(500);
    expect(c.tracing.otlp).toEqual({ endpoint: "http://127.0.0.1:4318/v1/traces", headers: {}, flushInterval: 5_000, timeout: 10_000, maxQueueSize: 2048 });
    expect(issues({ ...base, shutdown: { drainDelay: "soon" } })).toEqual(['shutdown.drainDelay: expected a duration like "1.5s", "300ms" or a number of ms, got "soon"']);
    expect(issues({ ...base, logging: { level: "verbose" } })[0]).toStartWith("logging.level:");
    expect(issues({ ...base, tracing: { otlp: { endpoint: "ftp://x" } } })).toEqual(["tracing.otlp.endpoint: expected an http(s) URL"]);
  });
});
