import { describe, expect, test } from "bun:test";
import { extractBearer, formatWwwAuthenticate } from "./index.ts";

describe("extractBearer (RFC 6750 §2.1)", () => {
  test("tokens", () => {
    expect(extractBearer("Bearer abc.def-_~+/==")).toEqual({ kind: "token", token: "abc.def-_~+/==" });
    expect(extractBearer("  BEARER \t tok  ")).toEqual({ kind: "token", token: "tok" });
    expect(extractBearer("tok.en")).toEqual({ kind: "token", token: "tok.en" });
  });
  test("absent, other schemes, malformed", () => {
    expect(extractBearer(undefined)).toEqual({ kind: "none" });
    expect(extractBearer("   ")).toEqual({ kind: "none" });
    expect(extractBearer("Basic dXNlcjpwYXNz")).toEqual({ kind: "other_scheme" });
    expect(extractBearer("Bearer")).toEqual({ kind: "malformed" });
    expect(extractBearer("Bearer a b")).toEqual({ kind: "malformed" });
    expect(extractBearer("Bearer a=b")).toEqual({ kind: "malformed" });
    expect(extractBearer("t\u00f6ken")).toEqual({ kind: "malformed" });
  });
});

describe("formatWwwAuthenticate (RFC 6750 §3)", () => {
  test("attributes in order, unsafe chars removed", () => {
    expect(formatWwwAuthenticate({})).toBe("Bearer");
    expect(formatWwwAuthenticate({ realm: "api" })).toBe('Bearer realm="api"');
    expect(formatWwwAuthenticate({ realm: 'a"b\\c', error: "invalid_token", description: 'bad "x"\n' })).toBe(
      'Bearer realm="abc", error="invalid_token", error_description="bad x"',
    );
    expect(formatWwwAuthenticate({ error: "insufficient_scope", scope: ["a:read", "b write"] })).toBe(
      'Bearer error="insufficient_scope", scope="a:read bwrite"',
    );
  });
});
