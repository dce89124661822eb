// A real gRPC server that is not ours (@grpc/grpc-js) behind the gateway: JSON mapping edge cases
// round-trip through binary protobuf and back, and grpc-js status codes/details come out as HTTP errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { TEST_DESCRIPTORS as DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

let gw: Gateway;
let backend: Awaited<ReturnType<typeof startGrpcJsServer>>;
const seen: Record<string, unknown>[] = [];

beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  const statusDesc = registry.getMessage("google.rpc.Status")!;
  const innerDesc = registry.getMessage("testdata.v1.Inner")!;
  backend = await startGrpcJsServer(registry, {
    "testdata.v1.MappingService": {
      Roundtrip: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        seen.push(call.metadata.getMap() as Record<string, unknown>);
        if (call.request.tags?.[0] === "fail-with-details") {
          const status = create(statusDesc, { code: 9, message: "precondition", details: [anyPack(innerDesc, create(innerDesc, { name: "detail", values: [7] }))] });
          const md = new grpc.Metadata();
          md.set("grpc-status-details-bin", Buffer.from(toBinary(statusDesc, status)));
          return cb({ code: grpc.status.FAILED_PRECONDITION, details: "precondition failed: stock", metadata: md });
        }
        cb(null, call.request);
      },
      GetThing: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { ...call.request }),
      UpdateThing: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { ...call.request.thing, shelf: call.request.shelf, name: call.request.name }),
      ThingName: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { name: call.request.name }),
    },
  });
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "grpcjs", protocol: "grpc", endpoints: [`127.0.0.1:${backend.port}`] }],
    services: [{ match: "testdata.v1.*", upstream: "grpcjs" }],
  });
  gw = await startGateway({ config, runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  await gw.stop();
  backend.server.forceShutdown();
});

const url = () => `${gw.url}/testdata.v1.MappingService/Roundtrip`;

describe("proto3 JSON mapping through grpc-js", () => {
  test("every kind of field round-trips", async () => {
    const input = {
      i64: "-9223372036854775808",
      u64: "18446744073709551615",
      s32: -42,
      dbl: 1.5e300,
      flt: 0.5,
      flag: true,
      data: "3q2+7w==",
      color: "GREEN",
      colors: ["RED", "GREEN"],
      tags: ["a", "b"],
      counts: { x: "1", y: "-2" },
      inner: { name: "n", values: [1, 2, 3] },
      inners: [{ name: "a" }, { name: "b", values: [9] }],
      at: "2024-02-29T12:34:56.789Z",
      took: "1.500s",
      meta: { k: [1, "two", null, { deep: true }] },
      anyValue: "just a string",
      maybeCount: "77",
      maybeName: "",
      mask: "a.b,cD",
      choiceNumber: 5,
      opt: 0,
      f64: "123",
    };
    const r = await postJson(url(), input);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(input);
  });

  test("int64 beyond 2^53 keeps precision when sent as a string", async () => {
    const r = await postJson(url(), { i64: "9007199254740993" });
    expect(r.json.i64).toBe("9007199254740993");
  });

  test("enums accepted by number, emitted by name", async () => {
    const r = await postJson(url(), { color: 1, colors: [2] });
    expect(r.json.color).toBe("RED");
    expect(r.json.colors).toEqual(["GREEN"]);
  });

  test("unknown enum name -> 400", async () => {
    const r = await postJson(url(), { color: "PURPLE" });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("testdata.v1.AllTypes.color");
  });

  test("bad timestamp -> 400 naming the field", async () => {
    const r = await postJson(url(), { at: "yesterday" });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("testdata.v1.AllTypes.at");
  });

  test("proto field names accepted on input", async () => {
    const r = await postJson(url(), { any_value: 3, maybe_count: "1" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ anyValue: 3, maybeCount: "1" });
  });

  test("grpc-js status and google.rpc.Status details become the error body", async () => {
    const r = await postJson(url(), { tags: ["fail-with-details"] });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("FAILED_PRECONDITION");
    expect(r.json.message).toBe("precondition failed: stock");
    expect(r.json.details).toEqual([{ "@type": "type.googleapis.com/testdata.v1.Inner", name: "detail", values: [7] }]);
  });

  test("traceparent (with a new parent id) and x-request-id are forwarded as gRPC metadata", async () => {
    seen.length = 0;
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await postJson(url(), {}, { traceparent: tp, "x-request-id": "rid-1", authorization: "Bearer secret" });
    // Same trace, a new parent span id (the gateway's client span), flags kept.
    const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(seen[0]!["traceparent"]));
    expect(sent?.[1]).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(sent?.[2]).not.toBe("b7ad6b7169203331");
    expect(sent?.[3]).toBe("01");
    expect(seen[0]!["x-request-id"]).toBe("rid-1");
    expect(seen[0]!["authorization"]).toBeUndefined();
  });
});

describe("upstream failure", () => {
  test("an endpoint nobody listens on -> 503 naming the address", async () => {
    const rt = await detectRuntime();
    const config = parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [DESCRIPTORS],
      upstreams: [{ name: "down", protocol: "grpc", endpoints: ["127.0.0.1:1"] }],
      services: [{ match: "*", upstream: "down" }],
    });
    const g = await startGateway({ config, runtime: rt, logger: quietLogger() });
    try {
      const r = await postJson(`${g.url}/testdata.v1.MappingService/Roundtrip`, {});
      expect(r.status).toBe(503);
      expect(r.json.reason).toBe("upstream_connect_failed");
      expect(r.json.message).toContain("127.0.0.1:1");
    } finally {
      await g.stop();
    }
  });
});
