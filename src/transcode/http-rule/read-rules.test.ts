import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, setExtension, type DescMethod, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodOptionsSchema } from "@bufbuild/protobuf/wkt";
import { loadHttpRoutes, readHttpRules } from "./read-rules.ts";
import { compileHttpRoute, type HttpRuleSpec } from "./route.ts";

const bytes = readFileSync(new URL("../../../idl/test-descriptors.binpb", import.meta.url));
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));

function rpc(service: string, method: string): DescMethod {
  const s = registry.getService(service);
  const m = s?.methods.find((x) => x.name === method);
  if (!m) throw new Error(`no ${service}.${method}`);
  return m;
}

/** The descriptor set with one test method's google.api.http option replaced. */
function registryWithRule(method: string, rule: Record<string, unknown>): FileRegistry {
  const set = fromBinary(FileDescriptorSetSchema, bytes);
  const ext = createFileRegistry(set).getExtension("google.api.http");
  if (!ext || ext.fieldKind !== "message") throw new Error("no google.api.http");
  const m = set.file.find((f) => f.name === "test/v1/routing.proto")?.service[0]?.method.find((x) => x.name === method);
  if (!m) throw new Error(`no method ${method}`);
  m.options = create(MethodOptionsSchema);
  setExtension(m.options, ext, create(ext.message, rule));
  return createFileRegistry(set);
}

describe("readHttpRules", () => {
  const { items, errors } = readHttpRules(registry);
  const specs = (name: string) => items.filter((r) => `${r.rpc.parent.typeName}.${r.rpc.name}` === name).map((r) => r.spec);

  test("no errors in the descriptor set", () => {
    expect(errors).toEqual([]);
  });

  test("demo routes", () => {
    expect(specs("demo.v1.EchoService.Echo")).toEqual([{ httpMethod: "POST", path: "/v1/echo", body: "*", responseBody: "", bindingIndex: 0 }]);
    expect(specs("demo.v1.EchoService.EchoStream")).toEqual([{ httpMethod: "POST", path: "/v1/echo:stream", body: "*", responseBody: "", bindingIndex: 0 }]);
    expect(specs("demo.v1.EchoService.Collect")[0]?.path).toBe("/v1/echo:collect");
    expect(specs("market.v1.MarketService.GetKLines")).toEqual([
      { httpMethod: "GET", path: "/v1/symbols/{symbol}/klines", body: "", responseBody: "", bindingIndex: 0 },
    ]);
    expect(specs("market.v1.MarketService.StreamQuotes")[0]?.path).toBe("/v1/symbols/{symbol}/quotes");
    expect(specs("market.v1.MarketService.PlaceOrder")).toEqual([{ httpMethod: "POST", path: "/v1/orders", body: "*", responseBody: "", bindingIndex: 0 }]);
    expect(specs("market.v1.MarketService.GetOrder")[0]?.path).toBe("/v1/orders/{client_order_id}");
  });

  test("additional_bindings are flattened with their index", () => {
    expect(specs("test.v1.LibraryService.GetBook")).toEqual([
      { httpMethod: "GET", path: "/test/v1/{name=shelves/*/books/*}", body: "", responseBody: "", bindingIndex: 0 },
      { httpMethod: "GET", path: "/test/v1/books/{name}", body: "", responseBody: "", bindingIndex: 1 },
      { httpMethod: "GET", path: "/test/v1/library/{name=**}", body: "", responseBody: "", bindingIndex: 2 },
    ]);
  });

  test("PUT, PATCH, DELETE, body field, response_body and custom kinds", () => {
    expect(specs("test.v1.LibraryService.ReplaceBook")[0]).toMatchObject({ httpMethod: "PUT", body: "*" });
    expect(specs("test.v1.LibraryService.UpdateBook")[0]).toMatchObject({ httpMethod: "PATCH", body: "book", path: "/test/v1/{book.name=shelves/*/books/*}" });
    expect(specs("test.v1.LibraryService.DeleteBook")[0]).toMatchObject({ httpMethod: "DELETE", body: "" });
    expect(specs("test.v1.LibraryService.ListBookItems")[0]).toMatchObject({ responseBody: "books" });
    expect(specs("test.v1.LibraryService.Ping")).toEqual([{ httpMethod: "HEAD", path: "/test/v1/ping", body: "", responseBody: "", bindingIndex: 0 }]);
    expect(specs("test.v1.LibraryService.AnyMethod")[0]).toMatchObject({ httpMethod: "*", path: "/test/v1/any" });
  });

  test("methods without the option are skipped", () => {
    expect(specs("test.v1.LibraryService.Unannotated")).toEqual([]);
  });

  test("a registry without google.api.http yields nothing", () => {
    const set = fromBinary(FileDescriptorSetSchema, bytes);
    set.file = set.file.filter((f) => f.name.startsWith("google/protobuf/"));
    expect(readHttpRules(createFileRegistry(set))).toEqual({ items: [], errors: [] });
  });
});

describe("readHttpRules: invalid annotations", () => {
  test("nested additional_bindings", () => {
    const reg = registryWithRule("GetBook", {
      pattern: { case: "get", value: "/x/{name}" },
      additionalBindings: [{ pattern: { case: "get", value: "/y/{name}" }, additionalBindings: [{ pattern: { case: "get", value: "/z/{name}" } }] }],
    });
    const { items, errors } = readHttpRules(reg);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.method).toBe("test.v1.LibraryService.GetBook");
    expect(errors[0]?.message).toContain("additional_bindings[0]");
    expect(errors[0]?.message).toContain("must not contain additional_bindings");
    expect(items.filter((i) => i.rpc.name === "GetBook").map((i) => i.spec.path)).toEqual(["/x/{name}", "/y/{name}"]);
  });

  test("no pattern", () => {
    const { errors } = readHttpRules(registryWithRule("GetBook", { body: "*" }));
    expect(errors.map((e) => e.message)).toEqual(["google.api.http on test.v1.LibraryService.GetBook: no pattern set (one of get, put, post, delete, patch, custom)"]);
  });

  test("custom without kind, empty path", () => {
    const a = readHttpRules(registryWithRule("GetBook", { pattern: { case: "custom", value: { path: "/x" } } }));
    expect(a.errors[0]?.message).toContain("custom pattern without a kind");
    const b = readHttpRules(registryWithRule("GetBook", { pattern: { case: "custom", value: { kind: "HEAD" } } }));
    expect(b.errors[0]?.message).toContain("HEAD pattern with an empty path");
  });

  test("loadHttpRoutes reports validation errors and keeps the valid routes", () => {
    const reg = registryWithRule("GetBook", {
      pattern: { case: "get", value: "/x/{nope}" },
      additionalBindings: [{ pattern: { case: "get", value: "/y/{name}" } }],
    });
    const { items, errors } = loadHttpRoutes(reg);
    expect(errors.map((e) => e.message)).toEqual([
      'google.api.http on test.v1.LibraryService.GetBook (GET /x/{nope}): path variable {nope}: test.v1.GetBookRequest has no field "nope"',
    ]);
    expect(errors[0]?.pattern).toBe("GET /x/{nope}");
    expect(items.filter((r) => r.name === "test.v1.LibraryService.GetBook").map((r) => r.pattern)).toEqual(["/y/{name}"]);
    // the rest of the set is untouched
    expect(items.some((r) => r.name === "market.v1.MarketService.GetOrder")).toBe(true);
  });
});

describe("compileHttpRoute: validation", () => {
  const listBooks = rpc("test.v1.LibraryService", "ListBooks");
  const spec = (over: Partial<HttpRuleSpec>): HttpRuleSpec => ({ httpMethod: "GET", path: "/t", body: "", responseBody: "", bindingIndex: 0, ...over });
  const problem = (m: DescMethod, s: HttpRuleSpec): string => {
    const r = compileHttpRoute(m, s);
    if (r.ok) throw new Error("compiled but should not");
    return r.error.message;
  };

  test("valid route carries resolved fields", () => {
    const r = compileHttpRoute(rpc("test.v1.LibraryService", "UpdateBook"), spec({ httpMethod: "PATCH", path: "/t/{book.name=shelves/*/books/*}", body: "book" }));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.name).toBe("test.v1.LibraryService.UpdateBook");
    expect(r.value.bodyField?.name).toBe("book");
    expect(r.value.pathFields.map((p) => p.fields.map((f) => f.name))).toEqual([["book", "name"]]);
    expect([...r.value.pathFieldSet]).toEqual(["book.name"]);
  });

  test("template syntax errors name method, binding, template and offset", () => {
    expect(problem(listBooks, spec({ path: "/t/{parent", bindingIndex: 2 }))).toBe(
      'google.api.http on test.v1.LibraryService.ListBooks additional_bindings[1] (GET /t/{parent): invalid path template "/t/{parent" at offset 10: unclosed variable opened at offset 3',
    );
  });

  test("path variables must exist and be singular scalar/enum fields", () => {
    expect(problem(listBooks, spec({ path: "/t/{missing}" }))).toContain('path variable {missing}: test.v1.ListBooksRequest has no field "missing"');
    expect(problem(listBooks, spec({ path: "/t/{pageSize}" }))).toContain('has no field "pageSize"'); // proto names only
    expect(problem(listBooks, spec({ path: "/t/{tags}" }))).toContain("path variable {tags} refers to a repeated scalar field");
    expect(problem(listBooks, spec({ path: "/t/{filter}" }))).toContain("refers to a message field (test.v1.Filter)");
    expect(problem(listBooks, spec({ path: "/t/{labels}" }))).toContain("refers to a map field");
    expect(problem(listBooks, spec({ path: "/t/{examples.name}" }))).toContain('"examples" is a repeated test.v1.Book field, not a singular message field');
    expect(problem(listBooks, spec({ path: "/t/{page_size.x}" }))).toContain('"page_size" is a scalar field, not a singular message field');
    expect(problem(listBooks, spec({ path: "/t/{filter.nope}" }))).toContain('test.v1.Filter has no field "nope"');
  });

  test("scalar, enum, nested and bytes path variables are accepted", () => {
    for (const path of ["/t/{page_size}", "/t/{color}", "/t/{filter.inner.depth}", "/t/{token}", "/t/{since}"]) {
      expect(compileHttpRoute(listBooks, spec({ path })).ok).toBe(true);
    }
  });

  test("body and response_body must be top-level fields", () => {
    expect(problem(listBooks, spec({ body: "nope" }))).toContain('body "nope": test.v1.ListBooksRequest has no top-level field "nope"');
    expect(problem(listBooks, spec({ body: "filter.author" }))).toContain('no top-level field "filter.author"');
    expect(problem(listBooks, spec({ responseBody: "nope" }))).toContain('response_body "nope": test.v1.ListBooksResponse has no top-level field "nope"');
    expect(problem(listBooks, spec({ path: "/t/{page_token}", body: "page_token" }))).toContain('"page_token" is bound by both the path and the body');
  });

  test("custom kind must be an HTTP token", () => {
    expect(problem(listBooks, spec({ httpMethod: "BAD KIND" }))).toContain('invalid HTTP method "BAD KIND"');
  });
});
