import { describe, expect, test } from "bun:test";
import { endpointKey, makeEndpoint, normalizeIp, normalizeSet, parseEndpointSpec, sameSet } from "./endpoint.ts";

describe("parseEndpointSpec", () => {
  test("IPv4 with port", () => {
    expect(parseEndpointSpec("10.0.0.1:80")).toEqual({ host: "10.0.0.1", port: 80, weight: 1, isIp: true });
  });

  test("object form with weight, address carrying the port", () => {
    expect(parseEndpointSpec({ address: "10.0.0.2:8080", weight: 3 })).toEqual({ host: "10.0.0.2", port: 8080, weight: 3, isIp: true });
  });

  test("object form with a separate port and a bare IPv6 literal", () => {
    expect(parseEndpointSpec({ address: "::1", port: 9000 })).toEqual({ host: "::1", port: 9000, weight: 1, isIp: true });
  });

  test("bracketed IPv6 is normalized so equal addresses share a key", () => {
    const p = parseEndpointSpec("[0:0:0:0:0:0:0:1]:50051");
    expect(p.host).toBe("::1");
    expect(endpointKey(p.host, p.port)).toBe("[::1]:50051");
  });

  test("host names are lower-cased and flagged for resolution", () => {
    expect(parseEndpointSpec("Api.Internal:443")).toEqual({ host: "api.internal", port: 443, weight: 1, isIp: false });
  });

  test("default port applies only when none is written", () => {
    expect(parseEndpointSpec("backend", 7000).port).toBe(7000);
    expect(parseEndpointSpec("backend:7001", 7000).port).toBe(7001);
  });

  test("malformed entries throw RangeError naming the entry", () => {
    expect(() => parseEndpointSpec("backend")).toThrow(/missing port/);
    expect(() => parseEndpointSpec("10.0.0.1:0")).toThrow(/bad port/);
    expect(() => parseEndpointSpec("10.0.0.1:70000")).toThrow(/bad port/);
    expect(() => parseEndpointSpec("10.0.0.1:8x")).toThrow(/bad port/);
    expect(() => parseEndpointSpec("::1:80")).toThrow(/\[addr\]:port/);
    expect(() => parseEndpointSpec({ address: "10.0.0.1:80", weight: -1 })).toThrow(/weight/);
    expect(() => parseEndpointSpec({ address: "10.0.0.1:80", weight: NaN })).toThrow(/weight/);
    expect(() => parseEndpointSpec(":80")).toThrow(/empty host/);
  });

  test("things that merely look like IPs are host names", () => {
    expect(normalizeIp("256.0.0.1")).toBeUndefined();
    expect(normalizeIp("10.0.0")).toBeUndefined();
    expect(normalizeIp("example.com")).toBeUndefined();
    expect(normalizeIp("2001:db8::1")).toBe("2001:db8::1");
  });
});

describe("normalizeSet / sameSet", () => {
  const a = makeEndpoint("10.0.0.2", 80, 1);
  const b = makeEndpoint("10.0.0.1", 80, 1);

  test("sorted by key, first of a duplicate key wins", () => {
    const dup = makeEndpoint("10.0.0.2", 80, 5);
    const set = normalizeSet([a, b, dup]);
    expect(set.map((e) => e.key)).toEqual(["10.0.0.1:80", "10.0.0.2:80"]);
    expect(set[1]!.weight).toBe(1);
  });

  test("order does not matter, weight and host name do", () => {
    expect(sameSet(normalizeSet([a, b]), normalizeSet([b, a]))).toBe(true);
    expect(sameSet(normalizeSet([a, b]), normalizeSet([b, makeEndpoint("10.0.0.2", 80, 2)]))).toBe(false);
    expect(sameSet(normalizeSet([a]), normalizeSet([makeEndpoint("10.0.0.2", 80, 1, "x")]))).toBe(false);
    expect(sameSet(normalizeSet([a]), normalizeSet([a, b]))).toBe(false);
  });
});
