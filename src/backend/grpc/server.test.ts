// The gRPC server kit on real loopback sockets: a client that resets a request-streaming call
// mid-upload must make the handler's iterator throw CANCELLED (not end as if the upload were whole).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, MethodDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { GatewayError, GrpcCode } from "../../core/index.ts";
import { encodeEnvelope } from "../../protocol/grpc/index.ts";
import { serveH2 } from "../../runtime/shared/node-http2.ts";
import type { HandlerContext, Msg } from "../types.ts";
import { serveGrpc, type GrpcServer } from "./server.ts";

const COLLECT = "/demo.v1.EchoService/Collect";
const TALK = "/test.v1.ChatService/Talk";

/** What one call's handler saw, by the x-call request header. */
interface CallRecord {
  seen: string[];
  outcome?: { kind: "end" } | { kind: "error"; error: unknown; signalAborted: boolean };
}
const calls = new Map<string, CallRecord>();
function record(ctx: HandlerContext): CallRecord {
  const r: CallRecord = { seen: [] };
  calls.set(ctx.metadata["x-call"] ?? "?", r);
  return r;
}

let registry: Registry;
let server: GrpcServer;
let req: DescMessage;
let res: DescMessage;
const sessions: http2.ClientHttp2Session[] = [];
const sockets: net.Socket[] = [];

/** demo.v1's registry plus a bidi method on the same messages (the demo IDL has none). */
function buildRegistry(): Registry {
  const bytes = readFileSync(new URL("../../../idl/descriptors.binpb", import.meta.url));
  const demo = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(bytes)));
  const chat = create(FileDescriptorProtoSchema, {
    name: "test/v1/chat.proto",
    package: "test.v1",
    dependency: ["demo/v1/echo.proto"],
    syntax: "proto3",
    service: [
      {
        name: "ChatService",
        method: [create(MethodDescriptorProtoSchema, { name: "Talk", inputType: ".demo.v1.EchoRequest", outputType: ".demo.v1.EchoResponse", clientStreaming: true, serverStreaming: true })],
      },
    ],
  });
  const chatFile = createFileRegistry(chat, (name) => demo.getFile(name));
  return createFileRegistry(demo, chatFile);
}

beforeAll(async () => {
  registry = buildRegistry();
  req = registry.getMessage("demo.v1.EchoRequest")!;
  res = registry.getMessage("demo.v1.EchoResponse")!;
  server = await serveGrpc({
    serveH2,
    hostname: "127.0.0.1",
    port: 0,
    // Far above the usual gap between END_STREAM and RST_STREAM (< 2 ms), so a loaded machine cannot flake it.
    endOfStreamSettleMs: 300,
    service: {
      registry,
      handlers: {
        "demo.v1.EchoService/Collect": async (reqs: AsyncIterable<Msg>, ctx: HandlerContext) => {
          const r = record(ctx);
          try {
            for await (const m of reqs) r.seen.push(m.text);
          } catch (error) {
            r.outcome = { kind: "error", error, signalAborted: ctx.signal.aborted };
            throw error;
          }
          r.outcome = { kind: "end" };
          return { text: r.seen.join(""), n: BigInt(r.seen.length) };
        },
        "test.v1.ChatService/Talk": async function* (reqs: AsyncIterable<Msg>, ctx: HandlerContext) {
          const r = record(ctx);
          try {
            for await (const m of reqs) {
              r.seen.push(m.text);
              yield { text: `re:${m.text}` };
            }
          } catch (error) {
            r.outcome = { kind: "error", error, signalAborted: ctx.signal.aborted };
            throw error;
          }
          r.outcome = { kind: "end" };
        },
      },
    },
  });
});

afterAll(() => {
  for (const s of sessions) s.destroy();
  for (const s of sockets) s.destroy();
  server.destroy();
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function session(): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${server.port}`);
  s.on("error", () => {});
  sessions.push(s);
  return s;
}

function open(s: http2.ClientHttp2Session, path: string, id: string) {
  const stream = s.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", "x-call": id });
  stream.on("error", () => {});
  const chunks: Uint8Array[] = [];
  let trailers: http2.IncomingHttpHeaders = {};
  stream.on("data", (c: Uint8Array) => chunks.push(c));
  stream.on("trailers", (t) => (trailers = t));
  const done = new Promise<{ body: Uint8Array; trailers: http2.IncomingHttpHeaders }>((resolve) => {
    stream.on("close", () => resolve({ body: new Uint8Array(Buffer.concat(chunks)), trailers }));
  });
  return { stream, done, send: (text: string) => stream.write(encodeEnvelope(toBinary(req, create(req, { text })))) };
}

function expectCancelled(id: string): void {
  const o = calls.get(id)!.outcome!;
  expect(o.kind).toBe("error");
  if (o.kind !== "error") return;
  expect(GatewayError.is(o.error) && o.error.code).toBe(GrpcCode.CANCELLED);
  expect(o.signalAborted).toBe(true);
}

/** A normal client-streaming call: every message seen, a normal end, the reply and status 0. */
async function healthyCollect(s: http2.ClientHttp2Session, id: string): Promise<void> {
  const c = open(s, COLLECT, id);
  for (const t of ["x", "y", "z"]) c.send(t);
  c.stream.end();
  const { body, trailers } = await c.done;
  expect(trailers["grpc-status"]).toBe("0");
  const reply = fromBinary(res, body.subarray(5)) as unknown as { text: string; n: bigint };
  expect([reply.text, reply.n]).toEqual(["xyz", 3n]);
  expect(calls.get(id)!.outcome).toEqual({ kind: "end" });
}

describe("client resets a request stream mid-upload", () => {
  test("client streaming, node:http2 close(CANCEL) (END_STREAM then RST_STREAM on the wire): the iterator throws CANCELLED, the signal is aborted", async () => {
    const s = session();
    const c = open(s, COLLECT, "cs-1");
    c.send("a");
    c.send("b");
    await until(() => calls.get("cs-1")?.seen.length === 2);
    c.stream.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => calls.get("cs-1")?.outcome !== undefined);
    expectCancelled("cs-1");
    expect(calls.get("cs-1")!.seen).toEqual(["a", "b"]);
    // The same connection still serves the next call.
    await healthyCollect(s, "cs-1-next");
  });

  test("bidi streaming, node:http2 close(CANCEL): the iterator throws CANCELLED, the signal is aborted", async () => {
    const s = session();
    const c = open(s, TALK, "bidi-1");
    c.send("a");
    c.send("b");
    await until(() => calls.get("bidi-1")?.seen.length === 2);
    c.stream.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => calls.get("bidi-1")?.outcome !== undefined);
    expectCancelled("bidi-1");
    await healthyCollect(s, "bidi-1-next");
  });

  test("client streaming, a bare RST_STREAM (no END_STREAM, as grpc-go cancels): the iterator throws CANCELLED instead of waiting forever", async () => {
    const raw = await rawH2(server.port);
    raw.headers(1, COLLECT, "raw-1");
    raw.data(1, encodeEnvelope(toBinary(req, create(req, { text: "a" }))));
    raw.data(1, encodeEnvelope(toBinary(req, create(req, { text: "b" }))));
    await until(() => calls.get("raw-1")?.seen.length === 2);
    raw.rst(1, 0x8);
    await until(() => calls.get("raw-1")?.outcome !== undefined);
    expectCancelled("raw-1");
    await healthyCollect(session(), "raw-1-next");
  });

  test("a normal upload still ends normally (the end is only held briefly)", async () => {
    await healthyCollect(session(), "plain");
  });
});

/**
 * A bare HTTP/2 client writing frames by hand (RFC 9113 §4, §6; HPACK literals without
 * indexing, RFC 7541 §6.2.2), for a RST_STREAM that node:http2 cannot send without END_STREAM.
 */
async function rawH2(port: number) {
  const sock = net.connect(port, "127.0.0.1");
  sockets.push(sock);
  sock.on("error", () => {});
  await new Promise((r) => sock.once("connect", r));
  const frame = (type: number, flags: number, stream: number, payload: Uint8Array) => {
    const h = new Uint8Array(9);
    h[0] = payload.byteLength >>> 16;
    h[1] = (payload.byteLength >>> 8) & 0xff;
    h[2] = payload.byteLength & 0xff;
    h[3] = type;
    h[4] = flags;
    new DataView(h.buffer).setUint32(5, stream);
    sock.write(h);
    sock.write(payload);
  };
  let inbox = new Uint8Array(0);
  sock.on("data", (c: Uint8Array) => {
    inbox = new Uint8Array([...inbox, ...c]);
    while (inbox.byteLength >= 9) {
      const len = (inbox[0]! << 16) | (inbox[1]! << 8) | inbox[2]!;
      if (inbox.byteLength < 9 + len) break;
      if (inbox[3] === 0x4 && (inbox[4]! & 0x1) === 0) frame(0x4, 0x1, 0, new Uint8Array(0)); // ack SETTINGS
      inbox = inbox.subarray(9 + len);
    }
  });
  sock.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  frame(0x4, 0, 0, new Uint8Array(0));
  const te = new TextEncoder();
  const literal = (name: string, value: string) => {
    const n = te.encode(name);
    const v = te.encode(value);
    return [0x00, n.byteLength, ...n, v.byteLength, ...v];
  };
  return {
    headers(stream: number, path: string, id: string) {
      const block = [
        ...literal(":method", "POST"),
        ...literal(":scheme", "http"),
        ...literal(":path", path),
        ...literal(":authority", `127.0.0.1:${port}`),
        ...literal("content-type", "application/grpc"),
        ...literal("te", "trailers"),
        ...literal("x-call", id),
      ];
      frame(0x1, 0x4, stream, new Uint8Array(block)); // HEADERS, END_HEADERS
    },
    data: (stream: number, payload: Uint8Array) => frame(0x0, 0, stream, payload),
    rst: (stream: number, code: number) => {
      const p = new Uint8Array(4);
      new DataView(p.buffer).setUint32(0, code);
      frame(0x3, 0, stream, p);
    },
  };
}
