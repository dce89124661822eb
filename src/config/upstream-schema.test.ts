// Upstream discovery (dns) and retry-budget options: defaults and validation.
import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig, type ConfigInput } from "./index.ts";

type UpstreamInput = ConfigInput["upstreams"][number];

function config(upstream: Partial<UpstreamInput>) {
  return parseConfig({
    descriptors: ["idl/descriptors.binpb"],
    upstreams: [{ name: "demo", ...upstream }],
    services: [{ match: "*", upstream: "demo" }],
  });
}

function issues(upstream: Partial<UpstreamInput>): string[] {
  try {
    config(upstream);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

describe("upstream dns", () => {
  test("defaults: refresh every 30 s, TTLs floored at 5 s, lookups at least 2 s apart", () => {
    const u = config({ dns: { host: "quotes.internal", port: 50051 } }).upstreams[0]!;
    expect(u.dns).toEqual({ host: "quotes.internal", port: 50051, refreshInterval: 30_000, minRefreshInterval: 2_000, minTtl: 5_000 });
  });

  test("minTtl takes a duration", () => {
    const u = config({ dns: { host: "q", port: 1, minTtl: "1s", refreshInterval: "10s" } }).upstreams[0]!;
    expect(u.dns?.minTtl).toBe(1_000);
    expect(u.dns?.refreshInterval).toBe(10_000);
  });

  test("an unknown dns key is rejected with its path", () => {
    const found = issues({ dns: { host: "q", port: 1, minTTL: "1s" } as never });
    expect(found.some((i) => i.includes("upstreams.0.dns"))).toBe(true);
  });
});

describe("upstream retryBudget", () => {
  test("default: 100 tokens, ratio 0.1", () => {
    expect(config({ endpoints: ["127.0.0.1:1"] }).upstreams[0]!.retryBudget).toEqual({ maxTokens: 100, tokenRatio: 0.1 });
  });

  test("partial settings keep the other default", () => {
    expect(config({ endpoints: ["127.0.0.1:1"], retryBudget: { maxTokens: 10 } }).upstreams[0]!.retryBudget).toEqual({ maxTokens: 10, tokenRatio: 0.1 });
  });

  test("maxTokens must be in (0, 1000] as in grpc-js", () => {
    expect(issues({ endpoints: ["127.0.0.1:1"], retryBudget: { maxTokens: 1001 } }).some((i) => i.includes("retryBudget.maxTokens"))).toBe(true);
    expect(issues({ endpoints: ["127.0.0.1:1"], retryBudget: { maxTokens: 0 } }).some((i) => i.includes("retryBudget.maxTokens"))).toBe(true);
    expect(issues({ endpoints: ["127.0.0.1:1"], retryBudget: { maxTokens: 1000 } })).toEqual([]);
  });
});
