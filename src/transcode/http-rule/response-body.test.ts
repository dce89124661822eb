import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { loadHttpRoutes } from "./read-rules.ts";
import { selectResponseBody } from "./response-body.ts";
import type { HttpRoute } from "./route.ts";
import { fieldByName } from "./field-path.ts";

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(new URL("../../../idl/test-descriptors.binpb", import.meta.url))),
);
const routes = loadHttpRoutes(registry).items;

function routeOf(name: string): HttpRoute {
  const r = routes.find((x) => x.name === name);
  if (!r) throw new Error(`no route ${name}`);
  return r;
}

const items = routeOf("test.v1.LibraryService.ListBookItems");
const count = routeOf("test.v1.LibraryService.CountBooks");
const list = routeOf("test.v1.LibraryService.ListBooks");
const reply = items.rpc.output;

describe("selectResponseBody", () => {
  test("no response_body: the whole reply", () => {
    const json = toJson(reply, fromJson(reply, { books: [{ title: "a" }], total: 2 }));
    expect(selectResponseBody(list, json)).toBe(json);
  });

  test("response_body: the named field from toJson output", () => {
    const json = toJson(reply, fromJson(reply, { books: [{ title: "a" }, { title: "b" }], nextPageToken: "n" }));
    expect(selectResponseBody(items, json)).toEqual([{ title: "a" }, { title: "b" }]);
    const c = toJson(count.rpc.output, fromJson(count.rpc.output, { count64: "12" }));
    expect(selectResponseBody(count, c)).toBe("12");
  });

  test("replies written with proto field names are accepted", () => {
    const json = toJson(reply, fromJson(reply, { next_page_token: "n", count64: "3" }), { useProtoFieldName: true });
    const route = { responseBodyField: fieldByName(reply, "next_page_token", false) };
    expect(selectResponseBody(route, json)).toBe("n");
  });

  test("a field omitted as unset yields its proto3 JSON default", () => {
    const empty = toJson(reply, create(reply));
    expect(empty).toEqual({});
    expect(selectResponseBody(items, empty)).toEqual([]);
    expect(selectResponseBody(count, empty)).toBe("0");
    const field = (name: string) => ({ responseBodyField: fieldByName(reply, name, false) });
    expect(selectResponseBody(field("next_page_token"), empty)).toBe("");
    expect(selectResponseBody(field("total"), empty)).toBe(0);
    expect(selectResponseBody(field("first"), empty)).toBeNull();
    expect(selectResponseBody(field("color"), empty)).toBe("COLOR_UNSPECIFIED");
  });
});
