import { describe, expect, test } from "bun:test";
import { createClaimForwarder } from "./index.ts";

describe("claim forwarding", () => {
  const claims = {
    sub: "user-1",
    tenant_id: 42,
    admin: false,
    roles: ["reader", "writer"],
    org: { id: "o1" },
    name: "Zoë",
    "https://example.com/Groups": ["a"],
    realm_access: { roles: ["ops"] },
    big: "x".repeat(2000),
  };

  test("names from the prefix; values encoded by type; missing and oversized claims skipped", () => {
    const f = createClaimForwarder({
      claims: ["sub", "tenant_id", "admin", "roles", "org", "name", "https://example.com/Groups", "realm_access.roles", "big", "absent"],
    });
    expect(f.select(claims)).toEqual({
      "x-jwt-sub": "user-1",
      "x-jwt-tenant_id": "42",
      "x-jwt-admin": "false",
      "x-jwt-roles": "reader,writer",
      "x-jwt-org": '{"id":"o1"}',
      "x-jwt-name": "Zo%C3%AB",
      "x-jwt-https---example.com-groups": "a",
      "x-jwt-realm_access.roles": "ops",
    });
    expect(f.select(null)).toEqual({});
  });

  test("explicit names and a custom prefix", () => {
    const f = createClaimForwarder({ claims: { sub: "x-user-id", tenant_id: "X-Tenant" }, prefix: "x-auth-" });
    expect(f.select(claims)).toEqual({ "x-user-id": "user-1", "x-tenant": "42" });
    expect(f.mapping).toEqual([
      ["sub", "x-user-id"],
      ["tenant_id", "x-tenant"],
    ]);
  });

  test("inbound spoofing headers are stripped (whole prefix and explicit names)", () => {
    const f = createClaimForwarder({ claims: { sub: "x-user-id" } });
    const h = new Headers({ "X-JWT-Sub": "admin", "x-jwt-anything": "1", "x-user-id": "admin", accept: "json" });
    expect(f.isReserved("X-Jwt-Roles")).toBe(true);
    f.stripInbound(h);
    expect([...h.keys()]).toEqual(["accept"]);
  });

  test("invalid names are refused", () => {
    expect(() => createClaimForwarder({ claims: { sub: "x-user-bin" } })).toThrow(/invalid metadata name/);
    expect(() => createClaimForwarder({ claims: { sub: "grpc-status" } })).toThrow(/invalid metadata name/);
    expect(() => createClaimForwarder({ claims: { sub: "x user" } })).toThrow(/invalid metadata name/);
    expect(() => createClaimForwarder({ claims: { sub: "x-a", tid: "X-A" } })).toThrow(/two claims/);
  });
});
