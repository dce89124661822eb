import type * as grpc from "@grpc/grpc-js";
import { createGrpcConnection } from "./src/upstream/index.ts";
import { detectRuntime } from "./src/runtime/index.ts";
import { registryFromDescriptorSets, createJsonCodec } from "./src/transcode/index.ts";
import { startGrpcJsServer } from "./test/helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "./test/helpers/stack.ts";
const rt = await detectRuntime();
const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
for (let round = 0; round < 6; round++) {
  const srv = await startGrpcJsServer(registry, { "demo.v1.EchoService": { Echo: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => setTimeout(() => cb(null, { text: call.request.text }), call.request.delayMs) } });
  const t0 = Date.now();
  const log: string[] = [];
  const conn = createGrpcConnection({ id: 1, address: { host: "127.0.0.1", port: srv.port }, openH2Session: rt.openH2Session, connectTimeoutMs: 1000, maxMessageBytes: 1e7 });
  conn.onStateChange((s) => log.push(`${Date.now() - t0}:${s}`));
  await conn.ready;
  const codec = createJsonCodec(registry);
  const req = codec.encode(registry.getMessage("demo.v1.EchoRequest")!, { text: "x", delayMs: 500 });
  if (!req.ok) throw req.error;
  const method = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };
  const calls = [1, 2].map(() => conn.unary(req.value, { method }).then(() => "ok", (e) => e.reason));
  await new Promise((r) => setTimeout(r, 100));
  log.push(`${Date.now() - t0}:stop`);
  const stopped = srv.stop();
  console.log(round, await Promise.all(calls), log.join(" "));
  await stopped;
  conn.destroy();
}
