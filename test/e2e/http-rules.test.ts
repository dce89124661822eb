// Issue 2: google.api.http routes over real HTTP to a grpc-js backend (not ours), for the forms the demo
// services do not use: `{var=a/*}` and `**` templates, additional_bindings, body bound to one field,
// nested and repeated query parameters, PATCH/PUT/DELETE/HEAD, `:verb` with variables, typed path
// variables, percent-decoding and response_body. The backend records each request as proto3 JSON, so
// every assertion is on what the backend really received (or what the client really got back).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { toJson, type DescMethod, type Registry } from "@bufbuild/protobuf";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { serviceDefinition } from "../helpers/grpc-js-server.ts";
import { TEST_DESCRIPTORS, quietLogger } from "../helpers/stack.ts";

let server: grpc.Server;
let gw: Gateway;
/** Every request the backend received: method name and the request as proto3 JSON (proto field names). */
const seen: { method: string; req: Record<string, unknown> }[] = [];

function replyFor(m: DescMethod, req: any): unknown {
  switch (m.name) {
    case "GetBook":
    case "GetSpecialBook":
      return { name: req.name, title: `title of ${req.name}` };
    case "ListBookItems":
      return { books: [{ name: "b1" }, { name: "b2", pages: 2 }], nextPageToken: "next" };
    case "CountBooks":
      return { count64: 9007199254740993n, total: 1 };
    case "CreateBook":
    case "UpdateBook":
      return { ...req.book };
    case "ReplaceBook":
      return { ...req };
    case "MoveBook":
      return { name: req.destination };
    default:
      return {};
  }
}

function libraryImpl(registry: Registry): Record<string, grpc.UntypedHandleCall> {
  const svc = registry.getService("test.v1.LibraryService")!;
  const impl: Record<string, grpc.UntypedHandleCall> = {};
  for (const m of svc.methods) {
    if (m.methodKind !== "unary") continue;
    impl[m.name] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      seen.push({ method: m.name, req: toJson(m.input, call.request, { registry, useProtoFieldName: true }) as Record<string, unknown> });
      cb(null, replyFor(m, call.request));
    };
  }
  return impl;
}

beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(TEST_DESCRIPTORS)]);
  server = new grpc.Server();
  server.addService(serviceDefinition(registry.getService("test.v1.LibraryService")!), libraryImpl(registry));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  gw = await startGateway({
    runtime: rt,
    logger: quietLogger(),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [TEST_DESCRIPTORS],
      upstreams: [{ name: "library", protocol: "grpc", endpoints: [`127.0.0.1:${port}`] }],
      services: [{ match: "test.v1.*", upstream: "library" }],
    }),
  });
});
afterAll(async () => {
  await gw.stop();
  server.forceShutdown();
});

/** One HTTP request; returns status, parsed JSON (or text) and what the backend received for it. */
async function req(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; got?: { method: string; req: Record<string, unknown> } }> {
  const before = seen.length;
  const res = await fetch(`${gw.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON (HEAD has no body) */
  }
  return { status: res.status, json, got: seen.length > before ? seen[seen.length - 1] : undefined };
}

describe("path templates and additional_bindings", () => {
  test("{name=shelves/*/books/*} binds the whole matched path", async () => {
    const r = await req("GET", "/test/v1/shelves/s1/books/b2");
    expect(r.status).toBe(200);
    expect(r.got).toEqual({ method: "GetBook", req: { name: "shelves/s1/books/b2" } });
    expect(r.json).toEqual({ name: "shelves/s1/books/b2", title: "title of shelves/s1/books/b2" });
  });

  test("a literal route beats the wildcard one", async () => {
    const r = await req("GET", "/test/v1/shelves/special/books/b3");
    expect(r.got).toEqual({ method: "GetSpecialBook", req: { name: "b3" } });
  });

  test("additional bindings reach the same RPC: /books/{name} and /library/{name=**}", async () => {
    expect((await req("GET", "/test/v1/books/b9")).got).toEqual({ method: "GetBook", req: { name: "b9" } });
    expect((await req("GET", "/test/v1/library/a/b/c")).got).toEqual({ method: "GetBook", req: { name: "a/b/c" } });
  });

  test("percent-decoding: a single-segment variable decodes %2F, a ** variable keeps it", async () => {
    expect((await req("GET", "/test/v1/books/a%2Fb%20c")).got?.req).toEqual({ name: "a/b c" });
    expect((await req("GET", "/test/v1/files/dir/x%2Fy")).got).toEqual({ method: "GetFile", req: { path: "dir/x%2Fy" } });
  });

  test("** with a :verb, and a verb after a bound variable", async () => {
    expect((await req("GET", "/test/v1/files/a/b:meta")).got).toEqual({ method: "GetFileMeta", req: { path: "a/b" } });
    const r = await req("POST", "/test/v1/shelves/s1/books/b1:move", { destination: "shelves/s2" });
    expect(r.got).toEqual({ method: "MoveBook", req: { name: "shelves/s1/books/b1", destination: "shelves/s2" } });
    expect(r.json).toEqual({ name: "shelves/s2" });
  });

  test("typed path variables (int64 beyond 2^53, bool, enum, uint32) and nested field paths", async () => {
    expect((await req("GET", "/test/v1/typed/9007199254740993/true/GREEN/7")).got?.req).toEqual({ id: "9007199254740993", flag: true, color: "GREEN", small: 7 });
    expect((await req("GET", "/test/v1/nested/i1/lab?outer.note=n&outer.inner.rank=3&extra=e")).got?.req).toEqual({
      outer: { inner: { id: "i1", rank: 3 }, label: "lab", note: "n" },
      extra: "e",
    });
  });

  test("a bad typed path value is a 400 naming the variable; the backend is not called", async () => {
    const r = await req("GET", "/test/v1/typed/notanumber/true/GREEN/7");
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("id");
    expect(r.got).toBeUndefined();
  });
});

describe("query parameters", () => {
  test("scalars, repeated (x=1&x=2), enums, nested messages (a.b=), wrappers and timestamps", async () => {
    const q =
      "page_size=5&tags=a&tags=b&ids=1&ids=9007199254740993&filter.author=ann&filter.inner.depth=2&filter.inner.labels=x&filter.inner.labels=y" +
      "&color=RED&colors=GREEN&colors=1&include_deleted=true&min_pages=10&updated_after=2024-01-02T03:04:05Z&read_mask=title,pages";
    const r = await req("GET", `/test/v1/shelves/s1/books?${q}`);
    expect(r.status).toBe(200);
    expect(r.got).toEqual({
      method: "ListBooks",
      req: {
        parent: "shelves/s1",
        page_size: 5,
        tags: ["a", "b"],
        ids: ["1", "9007199254740993"],
        filter: { author: "ann", inner: { depth: 2, labels: ["x", "y"] } },
        include_deleted: true,
        color: "RED",
        colors: ["GREEN", "RED"],
        updated_after: "2024-01-02T03:04:05Z",
        min_pages: 10,
        read_mask: "title,pages",
      },
    });
  });

  test("an unknown query parameter is a 400 naming it", async () => {
    const r = await req("GET", "/test/v1/shelves/s1/books?nope=1");
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe("unknown_field");
    expect(r.json.message).toContain("nope");
    expect(r.got).toBeUndefined();
  });
});

describe("body binding", () => {
  test('body: "book" binds the JSON body to that field; path and query fill the rest', async () => {
    const r = await req("POST", "/test/v1/shelves/s1/books?book_id=b7", { title: "T", pages: 3 });
    expect(r.status).toBe(200);
    expect(r.got).toEqual({ method: "CreateBook", req: { parent: "shelves/s1", book_id: "b7", book: { title: "T", pages: 3 } } });
    expect(r.json).toEqual({ title: "T", pages: 3 });
  });

  test("PATCH {book.name=...} body: book puts the path variable inside the body field", async () => {
    const r = await req("PATCH", "/test/v1/shelves/s1/books/b1?update_mask=title", { title: "new" });
    expect(r.got).toEqual({ method: "UpdateBook", req: { book: { name: "shelves/s1/books/b1", title: "new" }, update_mask: "title" } });
    expect(r.json).toEqual({ name: "shelves/s1/books/b1", title: "new" });
  });

  test("PUT body *: path and body fields merge; a repeated body field takes a JSON array", async () => {
    const put = await req("PUT", "/test/v1/shelves/s1/books/b1", { title: "x", pages: 10 });
    expect(put.got).toEqual({ method: "ReplaceBook", req: { name: "shelves/s1/books/b1", title: "x", pages: 10 } });
    const tags = await req("PUT", "/test/v1/tags?note=hi", ["x", "y"]);
    expect(tags.got).toEqual({ method: "PutTags", req: { tags: ["x", "y"], note: "hi" } });
  });

  test("DELETE without body; HEAD and a custom * kind", async () => {
    const del = await req("DELETE", "/test/v1/shelves/s1/books/b1");
    expect(del.status).toBe(200);
    expect(del.got).toEqual({ method: "DeleteBook", req: { name: "shelves/s1/books/b1" } });
    expect(del.json).toEqual({});
    const head = await req("HEAD", "/test/v1/ping");
    expect(head.status).toBe(200);
    expect(head.got?.method).toBe("Ping");
    expect((await req("OPTIONS", "/test/v1/any")).got?.method).toBe("AnyMethod");
  });
});

describe("response_body", () => {
  test("a repeated field: the reply is that JSON array", async () => {
    const r = await req("GET", "/test/v1/shelves/s1/items");
    expect(r.status).toBe(200);
    expect(r.got?.method).toBe("ListBookItems");
    expect(r.json).toEqual([{ name: "b1" }, { name: "b2", pages: 2 }]);
  });

  test("an int64 field: the reply is that value as a JSON string", async () => {
    const r = await req("GET", "/test/v1/shelves/s1/count");
    expect(r.status).toBe(200);
    expect(r.json).toBe("9007199254740993");
  });
});
