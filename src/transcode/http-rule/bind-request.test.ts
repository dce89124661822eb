import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";
import { bindRequest, type BindOptions } from "./bind-request.ts";
import { loadHttpRoutes } from "./read-rules.ts";
import { createHttpRouter } from "./router.ts";

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../../idl/test-descriptors.binpb", import.meta.url))),
);
const router = createHttpRouter(loadHttpRoutes(registry).items);

/** Route + bind, as the HTTP layer would; throws on routing misses. */
function bind(method: string, url: string, body?: unknown, options?: BindOptions) {
  const u = new URL(url, "http://h");
  const m = router.match(method, u.pathname);
  if (!m) throw new Error(`no route for ${method} ${u.pathname}`);
  return { route: m.route, result: bindRequest(m.route, m.params, u.searchParams, body, options) };
}

function ok(method: string, url: string, body?: unknown, options?: BindOptions): JsonObject {
  const { route, result } = bind(method, url, body, options);
  if (!result.ok) throw new Error(result.error.message);
  // Everything produced must be accepted by the proto3 JSON parser.
  fromJson(route.rpc.input, result.value);
  return result.value;
}

/** The request message after fromJson, back in canonical JSON (normalizes aliases). */
function message(method: string, url: string, body?: unknown, options?: BindOptions): unknown {
  const { route, result } = bind(method, url, body, options);
  if (!result.ok) throw new Error(result.error.message);
  return toJson(route.rpc.input, fromJson(route.rpc.input, result.value));
}

function fail(method: string, url: string, body?: unknown, options?: BindOptions): GatewayError {
  const { result } = bind(method, url, body, options);
  if (result.ok) throw new Error(`bound but should not: ${JSON.stringify(result.value)}`);
  expect(GatewayError.is(result.error)).toBe(true);
  expect(result.error.code).toBe(GrpcCode.INVALID_ARGUMENT);
  return result.error;
}

describe("demo routes", () => {
  test("klines: path + typed query", () => {
    expect(ok("GET", "/v1/symbols/BTCUSDT/klines?interval=1m&limit=100&end_time=1700000000000")).toEqual({
      interval: "1m",
      limit: 100,
      endTime: "1700000000000",
      symbol: "BTCUSDT",
    });
  });

  test("klines: bad int names the parameter", () => {
    const e = fail("GET", "/v1/symbols/X/klines?limit=lots");
    expect(e.reason).toBe(Reason.badField);
    expect(e.message).toBe('query parameter "limit": invalid int32 "lots"');
    expect(e.details).toEqual([
      { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "limit", description: 'query parameter "limit": invalid int32 "lots"' }] },
    ]);
  });

  test("unknown query parameter -> unknown_field, unless ignoreUnknownQuery", () => {
    const e = fail("GET", "/v1/symbols/X/klines?limt=5");
    expect(e.reason).toBe(Reason.unknownField);
    expect(e.message).toContain('"limt"');
    expect(e.message).toContain("market.v1.GetKLinesRequest");
    expect(ok("GET", "/v1/symbols/X/klines?limt=5&limit=7", undefined, { ignoreUnknownQuery: true })).toEqual({ limit: 7, symbol: "X" });
  });

  test("ignoreUnknownQuery does not hide type errors", () => {
    expect(fail("GET", "/v1/symbols/X/klines?limit=x", undefined, { ignoreUnknownQuery: true }).reason).toBe(Reason.badField);
  });

  test("a path-bound field in the query is rejected (only unbound fields are query parameters)", () => {
    const e = fail("GET", "/v1/symbols/X/klines?symbol=Y");
    expect(e.reason).toBe(Reason.unknownField);
    expect(e.message).toBe('query parameter "symbol" is bound by the URL path');
    expect(ok("GET", "/v1/symbols/X/klines?symbol=Y", undefined, { ignoreUnknownQuery: true })).toEqual({ symbol: "X" });
  });

  test("orders: body * is the whole message", () => {
    const body = { clientOrderId: "c1", symbol: "BTC", side: "BUY", quantity: "1.5", price: "100" };
    expect(ok("POST", "/v1/orders", body)).toEqual(body);
    expect(ok("POST", "/v1/orders", undefined)).toEqual({});
    expect(ok("POST", "/v1/orders", null)).toEqual({});
  });

  test("body *: query parameters have no (c) fields to bind to", () => {
    const e = fail("POST", "/v1/orders?symbol=BTC", { side: "BUY" });
    expect(e.reason).toBe(Reason.unknownField);
    expect(e.message).toContain('body: "*"');
    expect(ok("POST", "/v1/orders?symbol=BTC", { side: "BUY" }, { ignoreUnknownQuery: true })).toEqual({ side: "BUY" });
  });

  test("body *: a non-object body is bad_json", () => {
    expect(fail("POST", "/v1/echo", [1, 2]).reason).toBe(Reason.badJson);
    expect(fail("POST", "/v1/echo", "text").reason).toBe(Reason.badJson);
  });

  test("get order: path param", () => {
    expect(ok("GET", "/v1/orders/c%2F1")).toEqual({ clientOrderId: "c/1" });
  });

  test("routes without body: empty bodies are fine, others are rejected", () => {
    expect(ok("GET", "/v1/orders/c1", {})).toEqual({ clientOrderId: "c1" });
    const e = fail("GET", "/v1/orders/c1", { symbol: "x" });
    expect(e.reason).toBe(Reason.unknownField);
    expect(e.message).toContain("takes no request body");
  });
});

describe("path params", () => {
  test("override the same field in a body * (either JSON name or proto name)", () => {
    const body = { name: "other", title: "T" };
    expect(ok("PUT", "/test/v1/shelves/s1/books/b1", body)).toEqual({ name: "shelves/s1/books/b1", title: "T" });
    expect(body).toEqual({ name: "other", title: "T" }); // caller's object untouched
  });

  test("proto-name alias in the body is replaced, not duplicated", () => {
    const body = { order_id: "from-body", reason_text: "r" };
    expect(ok("POST", "/test/v1/orders/o%201:cancel", body)).toEqual({ orderId: "o 1", reason_text: "r" });
    expect(body).toEqual({ order_id: "from-body", reason_text: "r" });
    expect(ok("POST", "/test/v1/orders/o1:cancel", { orderId: "from-body" })).toEqual({ orderId: "o1" });
  });

  test("verb route with body *", () => {
    expect(ok("POST", "/test/v1/shelves/s1/books/b1:move", { name: "x", destination: "d" })).toEqual({ name: "shelves/s1/books/b1", destination: "d" });
  });

  test("nested paths create nested objects and merge with query fields", () => {
    expect(ok("GET", "/test/v1/nested/i1/lbl?outer.note=n&outer.inner.rank=3&extra=e")).toEqual({
      outer: { note: "n", inner: { rank: 3, id: "i1" }, label: "lbl" },
      extra: "e",
    });
  });

  test("typed path variables: int64, bool, enum, uint32", () => {
    expect(ok("GET", "/test/v1/typed/-42/true/GREEN/7")).toEqual({ id: "-42", flag: true, color: "GREEN", small: 7 });
    expect(message("GET", "/test/v1/typed/9007199254740993/false/1/0")).toEqual({ id: "9007199254740993", color: "RED" });
  });

  test("bad typed path values name the path parameter", () => {
    const e = fail("GET", "/test/v1/typed/x/true/RED/1");
    expect(e.reason).toBe(Reason.badField);
    expect(e.message).toBe('path parameter {id}: invalid int64 "x"');
    expect(fail("GET", "/test/v1/typed/1/yes/RED/1").message).toBe('path parameter {flag}: invalid bool "yes" (expected true or false)');
    expect(fail("GET", "/test/v1/typed/1/true/BLUE/1").message).toContain("path parameter {color}: invalid value \"BLUE\" for enum test.v1.Color");
    expect(fail("GET", "/test/v1/typed/1/true/RED/-1").message).toBe('path parameter {small}: invalid uint32 "-1"');
  });
});

describe("body: field", () => {
  test("PATCH {book.name=...} body: book -> path goes inside the body field", () => {
    const body = { title: "New", name: "ignored" };
    expect(ok("PATCH", "/test/v1/shelves/s/books/b?update_mask=title,pages", body)).toEqual({
      updateMask: "title,pages",
      book: { title: "New", name: "shelves/s/books/b" },
    });
    expect(body).toEqual({ title: "New", name: "ignored" });
  });

  test("POST {parent} body: book with a query field", () => {
    expect(message("POST", "/test/v1/shelves/s/books?book_id=b9", { title: "T", pages: 3 })).toEqual({
      parent: "shelves/s",
      bookId: "b9",
      book: { title: "T", pages: 3 },
    });
  });

  test("query parameters under the body field are rejected", () => {
    const e = fail("POST", "/test/v1/shelves/s/books?book.title=x", {});
    expect(e.reason).toBe(Reason.unknownField);
    expect(e.message).toBe('query parameter "book.title" is part of the request body (body: "book")');
  });

  test("a body field holding a non-object where a path field must go is bad_field", () => {
    const e = fail("PATCH", "/test/v1/shelves/s/books/b", "not an object");
    expect(e.reason).toBe(Reason.badField);
    expect(e.message).toContain('field "book" must be a JSON object');
  });

  test("repeated body field takes a JSON array", () => {
    expect(message("PUT", "/test/v1/tags?note=n", ["a", "b"])).toEqual({ tags: ["a", "b"], note: "n" });
  });
});

describe("query parameters: types", () => {
  const base = "/test/v1/shelves/s/books?";
  const q = (query: string) => ok("GET", base + query);

  test("repeated scalars and enums; enums by name or number", () => {
    expect(q("tags=a&tags=b&ids=1&ids=-2&colors=RED&colors=2&weights=1.5&weights=NaN")).toEqual({
      tags: ["a", "b"],
      ids: ["1", "-2"],
      colors: ["RED", 2],
      weights: [1.5, "NaN"],
      parent: "shelves/s",
    });
  });

  test("nested message fields", () => {
    expect(message("GET", base + "filter.author=ann&filter.color=GREEN&filter.inner.depth=2&filter.inner.labels=x&filter.inner.labels=y")).toEqual({
      parent: "shelves/s",
      filter: { author: "ann", color: "GREEN", inner: { depth: 2, labels: ["x", "y"] } },
    });
  });

  test("JSON names are accepted as well as proto names", () => {
    expect(q("pageSize=5&includeDeleted=true")).toEqual({ pageSize: 5, includeDeleted: true, parent: "shelves/s" });
  });

  test("numbers: ranges and formats", () => {
    expect(q("page_size=-2147483648&limit32=4294967295&since=-9223372036854775808&big=18446744073709551615&delta=-3")).toEqual({
      pageSize: -2147483648,
      limit32: 4294967295,
      since: "-9223372036854775808",
      big: "18446744073709551615",
      delta: -3,
      parent: "shelves/s",
    });
    expect(q("min_rating=-1.5e3&max_price=.5")).toEqual({ minRating: -1500, maxPrice: 0.5, parent: "shelves/s" });
    expect(q("min_rating=Infinity")).toEqual({ minRating: "Infinity", parent: "shelves/s" });
  });

  const bad: [string, string][] = [
    ["page_size=2147483648", 'query parameter "page_size": int32 out of range: "2147483648"'],
    ["page_size=1.5", 'query parameter "page_size": invalid int32 "1.5"'],
    ["page_size=", 'query parameter "page_size": invalid int32 ""'],
    ["limit32=-1", 'query parameter "limit32": invalid uint32 "-1"'],
    ["since=9223372036854775808", 'query parameter "since": int64 out of range: "9223372036854775808"'],
    ["big=-1", 'query parameter "big": invalid uint64 "-1"'],
    ["max_price=1e39", 'query parameter "max_price": float out of range: "1e39"'],
    ["min_rating=1e400", 'query parameter "min_rating": double out of range: "1e400"'],
    ["min_rating=0x10", 'query parameter "min_rating": invalid double "0x10"'],
    ["include_deleted=1", 'query parameter "include_deleted": invalid bool "1" (expected true or false)'],
    ["token=not*base64", 'query parameter "token": invalid bytes "not*base64" (expected base64)'],
    ["color=BLUE", 'query parameter "color": invalid value "BLUE" for enum test.v1.Color (expected one of COLOR_UNSPECIFIED, RED, GREEN, or a number)'],
    ["page_size=1&pageSize=2", 'query parameter "pageSize" is given more than once but "page_size" is not a repeated field'],
  ];
  for (const [query, message] of bad) {
    test(`bad_field: ${query}`, () => {
      const e = fail("GET", base + query);
      expect(e.reason).toBe(Reason.badField);
      expect(e.message).toBe(message);
    });
  }

  test("bytes as base64 (standard or URL-safe)", () => {
    expect(message("GET", base + "token=AQID")).toMatchObject({ token: "AQID" });
    expect(q("token=-_8")).toMatchObject({ token: "-_8" });
  });

  test("well-known types with a string form, and wrappers", () => {
    expect(message("GET", base + "updated_after=2024-01-02T03:04:05Z&max_age=1.5s&read_mask=a,b.c&min_pages=10&archived=false")).toEqual({
      parent: "shelves/s",
      updatedAfter: "2024-01-02T03:04:05Z",
      minPages: 10,
      readMask: "a,b.c",
      maxAge: "1.500s",
      archived: false,
    });
    expect(fail("GET", base + "min_pages=ten").message).toBe('query parameter "min_pages": invalid int32 "ten"');
  });

  test("oneof members", () => {
    expect(message("GET", base + "choice_b=4")).toEqual({ parent: "shelves/s", choiceB: 4 });
  });

  test("message, map and repeated-message fields are not query parameters", () => {
    const m = fail("GET", base + "filter=x");
    expect(m.reason).toBe(Reason.badField);
    expect(m.message).toContain('query parameter "filter" refers to a message field (test.v1.Filter)');
    expect(m.message).toContain('"filter.<field>"');
    expect(fail("GET", base + "example=x").message).toContain("message field (test.v1.Book)");
    expect(fail("GET", base + "labels=x").message).toContain("refers to a map field");
    expect(fail("GET", base + "examples=x").message).toContain("repeated test.v1.Book field");
    const rm = fail("GET", base + "examples.name=x");
    expect(rm.reason).toBe(Reason.badField);
    expect(rm.message).toContain('"examples" is a repeated message field');
  });

  test("unknown nested names", () => {
    const a = fail("GET", base + "filter.nope=1");
    expect(a.reason).toBe(Reason.unknownField);
    expect(a.message).toBe('unknown query parameter "filter.nope": test.v1.Filter has no field "nope"');
    const b = fail("GET", base + "page_size.x=1");
    expect(b.reason).toBe(Reason.unknownField);
    expect(b.message).toContain('"page_size" is a scalar field and has no field "x"');
  });

  test("percent-encoded and '+' query values are decoded by URLSearchParams", () => {
    expect(q("page_token=a+b%2Fc")).toEqual({ pageToken: "a b/c", parent: "shelves/s" });
  });

  test("without a query object only the path binds", () => {
    const m = router.match("GET", "/test/v1/shelves/s/books");
    if (!m) throw new Error("no route");
    expect(bindRequest(m.route, m.params, undefined, undefined)).toEqual({ ok: true, value: { parent: "shelves/s" } });
  });
});
