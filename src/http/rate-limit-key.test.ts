import { describe, expect, test } from "bun:test";
import { rateLimitKey } from "./rate-limit-key.ts";

const req = new Request("http://x/", { headers: { "x-api-key": "k1", "x-jwt-sub": "spoofed" } });
const meta = { "x-jwt-sub": "alice", "x-tenant": "acme" };

describe("rateLimitKey", () => {
  test("ip (default source)", () => {
    expect(rateLimitKey("ip", req, meta, { clientAddress: "10.0.0.1" })).toBe("10.0.0.1");
  });

  test("header:<name> reads the request header", () => {
    expect(rateLimitKey("header:x-api-key", req, meta, {})).toBe("k1");
    expect(rateLimitKey("header:x-missing", req, meta, {})).toBe("");
  });

  test("metadata:<name> reads upstream metadata (names compared lower-case), not the request headers", () => {
    expect(rateLimitKey("metadata:x-jwt-sub", req, meta, {})).toBe("alice");
    expect(rateLimitKey("metadata:X-Tenant", req, meta, {})).toBe("acme");
  });

  test("claim:<name> reads the verified claims: strings, other values as JSON, dotted paths", () => {
    const claims = { sub: "alice", uid: 42, org: { id: "o-7" }, roles: ["a", "b"] };
    expect(rateLimitKey("claim:sub", req, meta, { claims })).toBe("claim:alice");
    expect(rateLimitKey("claim:uid", req, meta, { claims })).toBe("claim:42");
    expect(rateLimitKey("claim:org.id", req, meta, { claims })).toBe("claim:o-7");
    expect(rateLimitKey("claim:roles", req, meta, { claims })).toBe('claim:["a","b"]');
  });

  test("claim:<name> without a token or without that claim falls back to the client address (never the headers)", () => {
    expect(rateLimitKey("claim:sub", req, meta, { claims: null, clientAddress: "10.0.0.2" })).toBe("ip:10.0.0.2");
    expect(rateLimitKey("claim:tenant", req, meta, { claims: { sub: "alice" }, clientAddress: "10.0.0.2" })).toBe("ip:10.0.0.2");
    // A claim whose value looks like an address can't share the address's bucket.
    expect(rateLimitKey("claim:sub", req, meta, { claims: { sub: "ip:10.0.0.2" } })).not.toBe(rateLimitKey("claim:sub", req, meta, { clientAddress: "10.0.0.2" }));
  });
});
