// Config options for body read timeouts, stream compression and rate-limit keys.
import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig, type ConfigInput } from "./index.ts";

const base: ConfigInput = {
  descriptors: ["idl/descriptors.binpb"],
  upstreams: [{ name: "demo", endpoints: ["127.0.0.1:50051"] }],
  services: [{ match: "*", upstream: "demo" }],
};
const auth = { keys: [{ secret: "0123456789abcdef0123456789abcdef" }] };

function issues(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

describe("limits.bodyReadTimeout", () => {
  test("defaults to 30 s; durations parse; a route may override it", () => {
    expect(parseConfig(base).limits).toEqual({ maxBodyBytes: 4 * 1024 * 1024, bodyReadTimeout: 30_000 });
    const c = parseConfig({ ...base, limits: { bodyReadTimeout: "2.5s" }, routes: [{ method: "demo.v1.EchoService/Collect", bodyReadTimeout: "5m" }] });
    expect(c.limits.bodyReadTimeout).toBe(2_500);
    expect(c.routes[0]!.bodyReadTimeout).toBe(300_000);
  });

  test("a bad duration names its path", () => {
    expect(issues({ ...base, limits: { bodyReadTimeout: "soon" } })[0]).toStartWith("limits.bodyReadTimeout:");
  });
});

describe("compression.streams", () => {
  test("on by default, can be turned off alone", () => {
    expect(parseConfig(base).compression).toEqual({ enabled: true, threshold: 1024, streams: true });
    expect(parseConfig({ ...base, compression: { streams: false } }).compression).toEqual({ enabled: true, threshold: 1024, streams: false });
  });
});

describe("rateLimit.key", () => {
  const route = (key: string) => ({ method: "demo.v1.EchoService/Echo", rateLimit: { ratePerSec: 1, key } });

  test("ip, header:, metadata: and claim: (with auth) are accepted", () => {
    for (const key of ["ip", "header:x-api-key", "metadata:x-jwt-sub", "claim:sub", "claim:realm_access.id", "claim:https://example.com/tenant"]) {
      expect(issues({ ...base, auth, routes: [route(key)] })).toEqual([]);
    }
  });

  test("anything else is refused with the expected forms", () => {
    for (const key of ["client", "header:", "cookie:session", "claim:"]) {
      const got = issues({ ...base, auth, routes: [route(key)] });
      expect(got).toHaveLength(1);
      expect(got[0]).toStartWith("routes.0.rateLimit.key:");
      expect(got[0]).toContain('"claim:<name>"');
    }
  });

  test("claim: needs an auth section (claims come from the verified JWT)", () => {
    const got = issues({ ...base, routes: [route("claim:sub")] });
    expect(got).toHaveLength(1);
    expect(got[0]).toStartWith("routes.0.rateLimit.key:");
    expect(got[0]).toContain("needs a top-level auth section");
  });
});
