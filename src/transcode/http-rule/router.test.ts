import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { parsePathTemplate } from "./path-template.ts";
import { loadHttpRoutes } from "./read-rules.ts";
import { createHttpRouter, type RoutableRoute } from "./router.ts";

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../../idl/test-descriptors.binpb", import.meta.url))),
);
const loaded = loadHttpRoutes(registry);
const router = createHttpRouter(loaded.items);

function hit(method: string, path: string): { name: string; pattern: string; params: Record<string, string> } {
  const r = router.lookup(method, path);
  if (r.kind !== "match") throw new Error(`${method} ${path}: ${r.kind}`);
  return { name: r.route.name, pattern: r.route.pattern, params: { ...r.params } };
}

interface TestRoute extends RoutableRoute {
  readonly id: string;
}

function route(httpMethod: string, source: string, name = source): TestRoute {
  const t = parsePathTemplate(source);
  if (!t.ok) throw new Error(t.error.message);
  return { httpMethod, template: t.value, name, id: `${httpMethod} ${source}` };
}

test("the descriptor set loads without rule errors or conflicts", () => {
  expect(loaded.errors).toEqual([]);
  expect(router.conflicts).toEqual([]);
});

describe("demo routes", () => {
  test("verbs: /v1/echo, /v1/echo:stream, /v1/echo:collect", () => {
    expect(hit("POST", "/v1/echo").name).toBe("demo.v1.EchoService.Echo");
    expect(hit("POST", "/v1/echo:stream").name).toBe("demo.v1.EchoService.EchoStream");
    expect(hit("POST", "/v1/echo:collect").name).toBe("demo.v1.EchoService.Collect");
  });

  test("unknown verb and near misses are 404", () => {
    expect(router.lookup("POST", "/v1/echo:nope")).toEqual({ kind: "not_found" });
    expect(router.lookup("POST", "/v1/echo/")).toEqual({ kind: "not_found" });
    expect(router.lookup("POST", "/v1/echoes")).toEqual({ kind: "not_found" });
    expect(router.lookup("POST", "/v2/echo")).toEqual({ kind: "not_found" });
  });

  test("an escaped ':' is data, not a verb separator", () => {
    expect(router.lookup("POST", "/v1/echo%3Astream")).toEqual({ kind: "not_found" });
  });

  test("klines, quotes, orders", () => {
    expect(hit("GET", "/v1/symbols/BTCUSDT/klines")).toEqual({
      name: "market.v1.MarketService.GetKLines",
      pattern: "/v1/symbols/{symbol}/klines",
      params: { symbol: "BTCUSDT" },
    });
    expect(hit("GET", "/v1/symbols/ETH/quotes").name).toBe("market.v1.MarketService.StreamQuotes");
    expect(hit("POST", "/v1/orders").name).toBe("market.v1.MarketService.PlaceOrder");
    expect(hit("GET", "/v1/orders/c-1")).toMatchObject({ name: "market.v1.MarketService.GetOrder", params: { client_order_id: "c-1" } });
  });

  test("a colon inside a variable value falls back to the plain segment", () => {
    expect(hit("GET", "/v1/orders/abc:def").params).toEqual({ client_order_id: "abc:def" });
  });

  test("405 when the path matches under other methods, with the allowed list", () => {
    expect(router.lookup("GET", "/v1/echo")).toEqual({ kind: "method_not_allowed", allow: ["POST"] });
    expect(router.lookup("DELETE", "/v1/orders/x")).toEqual({ kind: "method_not_allowed", allow: ["GET"] });
    expect(router.match("GET", "/v1/echo")).toBeUndefined();
    expect(router.allowedMethods("/test/v1/shelves/s/books/b")).toEqual(["DELETE", "GET", "PATCH", "PUT"]);
  });

  test("query string and fragment are not part of the path", () => {
    expect(hit("GET", "/v1/orders/x?y=1").params).toEqual({ client_order_id: "x" });
    expect(hit("GET", "/v1/orders/x#frag").params).toEqual({ client_order_id: "x" });
  });

  test("paths not starting with '/' are 404", () => {
    expect(router.lookup("GET", "v1/orders/x")).toEqual({ kind: "not_found" });
    expect(router.lookup("GET", "")).toEqual({ kind: "not_found" });
  });
});

describe("specificity", () => {
  test("literal beats wildcard", () => {
    expect(hit("GET", "/test/v1/shelves/special/books/b1")).toMatchObject({ name: "test.v1.LibraryService.GetSpecialBook", params: { name: "b1" } });
    expect(hit("GET", "/test/v1/shelves/other/books/b1")).toMatchObject({ name: "test.v1.LibraryService.GetBook", params: { name: "shelves/other/books/b1" } });
  });

  test("single wildcard beats multi wildcard", () => {
    expect(hit("GET", "/test/v1/files/a.txt")).toMatchObject({ name: "test.v1.LibraryService.GetFileTop", params: { path: "a.txt" } });
    expect(hit("GET", "/test/v1/files/dir/a.txt")).toMatchObject({ name: "test.v1.LibraryService.GetFile", params: { path: "dir/a.txt" } });
  });

  test("** matches zero segments", () => {
    expect(hit("GET", "/test/v1/files")).toMatchObject({ name: "test.v1.LibraryService.GetFile", params: { path: "" } });
  });

  test("** with a verb", () => {
    expect(hit("GET", "/test/v1/files/a/b/c:meta")).toMatchObject({ name: "test.v1.LibraryService.GetFileMeta", params: { path: "a/b/c" } });
    expect(hit("GET", "/test/v1/files/a/b/c:other")).toMatchObject({ name: "test.v1.LibraryService.GetFile", params: { path: "a/b/c:other" } });
  });

  test("a literal at an earlier segment wins over a later one (depth-first, backtracking)", () => {
    const r = createHttpRouter([route("GET", "/a/{x}/c"), route("GET", "/a/b/{y=**}")]);
    expect(r.match("GET", "/a/b/c")?.route.id).toBe("GET /a/b/{y=**}");
    expect(r.match("GET", "/a/z/c")?.route.id).toBe("GET /a/{x}/c");
    // the literal branch fails deeper, so the wildcard branch is tried
    const r2 = createHttpRouter([route("GET", "/a/b/c"), route("GET", "/a/{x}/d")]);
    expect(r2.match("GET", "/a/b/d")?.params).toEqual({ x: "b" });
  });

  test("the verb route is preferred when the last segment has a matching verb", () => {
    const r = createHttpRouter([route("POST", "/v1/{name}"), route("POST", "/v1/{name}:undelete")]);
    expect(r.match("POST", "/v1/x:undelete")?.route.id).toBe("POST /v1/{name}:undelete");
    expect(r.match("POST", "/v1/x:undelete")?.params).toEqual({ name: "x" });
    expect(r.match("POST", "/v1/x:other")?.params).toEqual({ name: "x:other" });
  });

  test("anonymous * and ** match without params", () => {
    expect(hit("GET", "/test/v1/anon/q/x/r/s")).toEqual({ name: "test.v1.LibraryService.Anonymous", pattern: "/test/v1/anon/*/x/**", params: {} });
    expect(router.lookup("GET", "/test/v1/anon/q/y/r")).toEqual({ kind: "not_found" });
  });

  test("* does not match an empty segment", () => {
    expect(router.lookup("GET", "/v1/orders/")).toEqual({ kind: "not_found" });
    expect(router.lookup("GET", "/v1/symbols//klines")).toEqual({ kind: "not_found" });
  });

  test("additional bindings route to the same RPC", () => {
    expect(hit("GET", "/test/v1/books/b7")).toMatchObject({ name: "test.v1.LibraryService.GetBook", params: { name: "b7" } });
    expect(hit("GET", "/test/v1/library/x/y/z")).toMatchObject({ name: "test.v1.LibraryService.GetBook", params: { name: "x/y/z" } });
  });

  test("nested field paths become params keyed by the dotted path", () => {
    expect(hit("GET", "/test/v1/nested/i1/lbl").params).toEqual({ "outer.inner.id": "i1", "outer.label": "lbl" });
  });

  test("custom kinds: HEAD and * (any method, after the method's own routes)", () => {
    expect(hit("HEAD", "/test/v1/ping").name).toBe("test.v1.LibraryService.Ping");
    expect(router.lookup("GET", "/test/v1/ping")).toEqual({ kind: "method_not_allowed", allow: ["HEAD"] });
    expect(hit("OPTIONS", "/test/v1/any").name).toBe("test.v1.LibraryService.AnyMethod");
    expect(hit("GET", "/test/v1/any").name).toBe("test.v1.LibraryService.AnyMethod");
    const r = createHttpRouter([route("*", "/x/{a}", "any"), route("GET", "/x/{b}", "get")]);
    expect(r.match("GET", "/x/1")?.route.name).toBe("get");
    expect(r.match("PUT", "/x/1")?.route.name).toBe("any");
  });

  test("methods are case-sensitive (RFC 9110 9.1)", () => {
    expect(router.lookup("get", "/v1/orders/x")).toEqual({ kind: "method_not_allowed", allow: ["GET"] });
  });
});

describe("percent-decoding (google/api/http.proto)", () => {
  test("single-segment variables decode everything, including %2F", () => {
    expect(hit("GET", "/v1/symbols/BTC%2FUSD/klines").params).toEqual({ symbol: "BTC/USD" });
    expect(hit("GET", "/v1/orders/a%20b%3Ac%25").params).toEqual({ client_order_id: "a b:c%" });
    expect(hit("GET", "/v1/orders/%E2%82%AC").params).toEqual({ client_order_id: "\u20ac" });
  });

  test("multi-segment variables decode everything except %2F / %2f", () => {
    expect(hit("GET", "/test/v1/files/a%20b/c%2Fd/e%2fz").params).toEqual({ path: "a b/c%2Fd/e%2fz" });
    expect(hit("GET", "/test/v1/shelves/s%2F1/books/b%3F").params).toEqual({ name: "shelves/s%2F1/books/b?" });
  });

  test("a '+' in a path is not a space", () => {
    expect(hit("GET", "/v1/orders/a+b").params).toEqual({ client_order_id: "a+b" });
  });

  test("percent-encoded unreserved characters match literals", () => {
    expect(hit("GET", "/v1/symbols/X/%6Blines").name).toBe("market.v1.MarketService.GetKLines");
  });

  test("malformed escapes in a variable: bad_path naming the variable", () => {
    const r = router.lookup("GET", "/v1/orders/%E2%82");
    expect(r.kind).toBe("bad_path");
    if (r.kind === "bad_path") {
      expect(r.message).toContain("{client_order_id}");
      expect(r.route.name).toBe("market.v1.MarketService.GetOrder");
    }
    expect(router.match("GET", "/v1/orders/%ZZ")).toBeUndefined();
    expect(router.lookup("GET", "/test/v1/files/a/%C3").kind).toBe("bad_path");
  });
});

describe("conflicts", () => {
  test("same method and equivalent template, reported with both names; first is kept", () => {
    const a = route("GET", "/v1/{a}", "pkg.S.A");
    const b = route("GET", "/v1/{b}", "pkg.S.B");
    const r = createHttpRouter([a, b]);
    expect(r.conflicts).toHaveLength(1);
    const c = r.conflicts[0];
    expect(c?.first).toBe(a);
    expect(c?.second).toBe(b);
    expect(c?.message).toContain("pkg.S.A");
    expect(c?.message).toContain("pkg.S.B");
    expect(r.match("GET", "/v1/x")?.route).toBe(a);
  });

  test("equivalences: {a=x/*} ~ x/{b}, {a=**} ~ **, verbs included", () => {
    const r = createHttpRouter([
      route("GET", "/v1/{a=x/*}"),
      route("GET", "/v1/x/{b}"),
      route("GET", "/v1/{p=**}:v"),
      route("GET", "/v1/**:v"),
      route("GET", "/v1/%7Ex"),
      route("GET", "/v1/~x"),
    ]);
    expect(r.conflicts.map((c) => [c.first.id, c.second.id])).toEqual([
      ["GET /v1/{a=x/*}", "GET /v1/x/{b}"],
      ["GET /v1/{p=**}:v", "GET /v1/**:v"],
      ["GET /v1/%7Ex", "GET /v1/~x"],
    ]);
  });

  test("not conflicts: other method, other verb, literal vs wildcard, * vs **", () => {
    const r = createHttpRouter([
      route("GET", "/v1/{a}"),
      route("POST", "/v1/{a}"),
      route("GET", "/v1/{a}:v"),
      route("GET", "/v1/lit"),
      route("GET", "/v1/{a=**}"),
      route("*", "/v1/{a}"),
    ]);
    expect(r.conflicts).toEqual([]);
  });

  test("conflicts from descriptor routes name both RPCs", () => {
    const klines = loaded.items.find((x) => x.name === "market.v1.MarketService.GetKLines");
    const other = loaded.items.find((x) => x.name === "market.v1.MarketService.StreamQuotes");
    if (!klines || !other) throw new Error("missing demo routes");
    const clash = { ...other, template: klines.template, pattern: klines.pattern };
    const r = createHttpRouter([klines, clash]);
    expect(r.conflicts[0]?.message).toContain("market.v1.MarketService.GetKLines");
    expect(r.conflicts[0]?.message).toContain("market.v1.MarketService.StreamQuotes");
  });
});

test("root template matches only /", () => {
  const r = createHttpRouter([route("GET", "/"), route("GET", "/**", "all")]);
  expect(r.match("GET", "/")?.route.name).toBe("/");
  expect(r.match("GET", "/a/b")?.route.name).toBe("all");
});
