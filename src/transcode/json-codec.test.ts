// JsonCodec.decodeToBytes: the same text as JSON.stringify(decode()), framed, whether written
// directly or through protobuf-es; invalid replies fail the same way as decode().
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { create, toBinary } from "@bufbuild/protobuf";
import { GatewayError } from "../core/index.ts";
import { createJsonCodec, defaultJsonOptions } from "./json-codec.ts";
import { registryFromDescriptorSets } from "./registry.ts";

const registry = registryFromDescriptorSets([readFileSync(new URL("../../idl/test-descriptors.binpb", import.meta.url))]);
const text = new TextDecoder();

describe("JsonCodec.decodeToBytes", () => {
  test("direct path: framed bytes equal prefix + JSON.stringify(decode()) + suffix", () => {
    const codec = createJsonCodec(registry, defaultJsonOptions);
    const desc = registry.getMessage("demo.v1.EchoResponse")!;
    const bytes = toBinary(desc, create(desc, { text: "héllo\n", n: 42n, blob: new Uint8Array([1, 2, 3]) }));
    const before = codec.writerStats.fast;
    const out = text.decode(codec.decodeToBytes(desc, bytes, "data: ", "\n\n"));
    expect(out).toBe(`data: ${JSON.stringify(codec.decode(desc, bytes))}\n\n`);
    expect(out).toBe('data: {"text":"héllo\\n","n":"42","blob":"AQID"}\n\n');
    expect(codec.writerStats.fast).toBe(before + 1);
  });

  test("fallback path (a closed enum with an unknown value, left to protobuf-es): same text", () => {
    const codec = createJsonCodec(registry, { ...defaultJsonOptions, useProtoNames: true, emitDefaults: true });
    const fdp = registry.getMessage("google.protobuf.FieldDescriptorProto")!;
    const bytes = new Uint8Array([0x28, 0x63]); // closed enum with an unknown value
    const before = codec.writerStats.fallback;
    expect(text.decode(codec.decodeToBytes(fdp, bytes, "", "\n"))).toBe(JSON.stringify(codec.decode(fdp, bytes)) + "\n");
    expect(codec.writerStats.fallback).toBe(before + 1);
  });

  test("bytes that are not the message: GatewayError upstream_protocol_error, like decode()", () => {
    const codec = createJsonCodec(registry, defaultJsonOptions);
    const desc = registry.getMessage("demo.v1.EchoResponse")!;
    const bad = new Uint8Array([0x0a, 0x05, 0x61]); // text field claims 5 bytes, has 1
    let err: unknown;
    try {
      codec.decodeToBytes(desc, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).reason).toBe("upstream_protocol_error");
  });
});
