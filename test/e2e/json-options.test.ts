// JSON options from config: emitting defaults ([] for empty repeated), proto field names, ignoring unknown fields.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type * as grpc from "@grpc/grpc-js";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { postJson, TEST_DESCRIPTORS } from "../helpers/stack.ts";

let backend: Awaited<ReturnType<typeof startGrpcJsServer>>;
const gws: Gateway[] = [];

async function gateway(json: Record<string, boolean>): Promise<string> {
  const rt = await detectRuntime();
  const gw = await startGateway({
    runtime: rt,
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [TEST_DESCRIPTORS],
      json,
      upstreams: [{ name: "g", endpoints: [`127.0.0.1:${backend.port}`] }],
      services: [{ match: "testdata.v1.*", upstream: "g" }],
    }),
  });
  gws.push(gw);
  return `${gw.url}/testdata.v1.MappingService/Roundtrip`;
}

beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(TEST_DESCRIPTORS)]);
  backend = await startGrpcJsServer(registry, {
    "testdata.v1.MappingService": {
      Roundtrip: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, call.request),
    },
  });
});

afterAll(async () => {
  for (const g of gws) await g.stop();
  backend.server.forceShutdown();
});

describe("JSON options", () => {
  test("emitDefaults: zero values, [] for repeated and {} for maps", async () => {
    const r = await postJson(await gateway({ emitDefaults: true }), { maybeName: "x" });
    expect(r.json.i64).toBe("0");
    expect(r.json.flag).toBe(false);
    expect(r.json.tags).toEqual([]);
    expect(r.json.counts).toEqual({});
    expect(r.json.color).toBe("COLOR_UNSPECIFIED");
    expect(r.json.maybeName).toBe("x");
  });

  test("useProtoNames: snake_case field names on output", async () => {
    const r = await postJson(await gateway({ useProtoNames: true }), { maybeCount: "5", anyValue: true });
    expect(r.json).toEqual({ maybe_count: "5", any_value: true });
  });

  test("ignoreUnknownFields: unknown fields are dropped instead of a 400", async () => {
    const strict = await postJson(await gateway({}), { tags: ["a"], nope: 1 });
    expect(strict.status).toBe(400);
    const lax = await postJson(await gateway({ ignoreUnknownFields: true }), { tags: ["a"], nope: 1 });
    expect(lax.status).toBe(200);
    expect(lax.json).toEqual({ tags: ["a"] });
  });
});
