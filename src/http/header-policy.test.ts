import { describe, expect, test } from "bun:test";
import { createHeaderPolicy } from "./header-policy.ts";

describe("header policy", () => {
  test("only allow-listed headers (exact or prefix) become metadata; ours win", () => {
    const p = createHeaderPolicy({ forward: ["x-tenant-id", "x-b3-*", "baggage"] });
    const h = new Headers({
      "x-tenant-id": "t1",
      "x-b3-traceid": "abc",
      "x-b3-spanid": "def",
      baggage: "k=v",
      "x-other": "no",
      cookie: "session=1",
      authorization: "Bearer secret",
    });
    expect(p.metadata(h, { "x-request-id": "r1" })).toEqual({ "x-tenant-id": "t1", "x-b3-traceid": "abc", "x-b3-spanid": "def", baggage: "k=v", "x-request-id": "r1" });
  });

  test("hop-by-hop, gateway-owned and protocol headers never pass, even when listed", () => {
    const p = createHeaderPolicy({ forward: ["*"] });
    const h = new Headers({
      connection: "keep-alive, x-drop-me",
      "keep-alive": "timeout=5",
      te: "trailers",
      upgrade: "h2c",
      "proxy-authorization": "Basic x",
      "x-drop-me": "named in Connection",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "x-request-id": "client",
      "grpc-timeout": "1S",
      "x-data-bin": "AAAA",
      "content-type": "application/json",
      "x-kept": "yes",
    });
    expect(p.metadata(h, { traceparent: "ours", "x-request-id": "ours" })).toEqual({ "x-kept": "yes", traceparent: "ours", "x-request-id": "ours" });
    expect(p.allows("keep-alive")).toBe(false);
    expect(p.allows("x-kept")).toBe(true);
  });

  test("names reserved by another feature (forwarded claims) are dropped when a client sends them", () => {
    const p = createHeaderPolicy({ forward: ["x-jwt-*", "x-tenant-id"], reserved: (n) => n.startsWith("x-jwt-") });
    const h = new Headers({ "x-jwt-sub": "admin", "x-tenant-id": "t" });
    expect(p.metadata(h, {})).toEqual({ "x-tenant-id": "t" });
    expect(p.metadata(h, { "x-jwt-sub": "verified" })).toEqual({ "x-tenant-id": "t", "x-jwt-sub": "verified" });
  });

  test("an empty allow-list forwards nothing but our own", () => {
    const p = createHeaderPolicy({ forward: [] });
    expect(p.metadata(new Headers({ "x-a": "1" }), { "x-request-id": "r" })).toEqual({ "x-request-id": "r" });
  });
});
