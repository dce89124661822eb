// Issue 2: one table maps gRPC status to HTTP status. Every code a grpc-js backend (not ours) can return
// goes through the gateway, and the answer must be the HTTP status that README.md's error table documents,
// with the JSON error shape { code, message, details, reason }. The expected statuses are read from the
// README itself, so the documentation and the behaviour cannot drift apart.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { GrpcCode } from "../../src/core/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { serviceDefinition } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

/** README "## Errors" table: rows like `| OK | 200 | | RESOURCE_EXHAUSTED | 429 |`. */
function readmeTable(): Map<string, number> {
  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("\n## ", readme.indexOf("## Errors") + 1));
  const table = new Map<string, number>();
  for (const m of section.matchAll(/\|\s*([A-Z_]+)\s*\|\s*(\d{3})\s*\|/g)) table.set(m[1]!, Number(m[2]));
  return table;
}

let server: grpc.Server;
let gw: Gateway;
beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  server = new grpc.Server();
  server.addService(serviceDefinition(registry.getService("demo.v1.EchoService")!), {
    Echo: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      const code = Number(/^code:(\d+)$/.exec(call.request.text)?.[1] ?? 0);
      if (code === 0) cb(null, { text: "fine" });
      else cb({ code, details: `backend says ${code}` });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  gw = await startGateway({
    runtime: rt,
    logger: quietLogger(),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [DESCRIPTORS],
      // Neither the breaker nor outlier ejection may turn later codes into their own errors.
      upstreams: [{ name: "js", protocol: "grpc", endpoints: [`127.0.0.1:${port}`], breaker: false, outlier: false }],
      services: [{ match: "*", upstream: "js" }],
    }),
  });
});
afterAll(async () => {
  await gw.stop();
  server.forceShutdown();
});

test("README's table lists all 17 gRPC codes", () => {
  expect([...readmeTable().keys()].sort()).toEqual(Object.keys(GrpcCode).sort());
});

for (const [name, code] of Object.entries(GrpcCode)) {
  test(`backend status ${name} (${code}) -> HTTP ${readmeTable().get(name)} (errors in the JSON error shape)`, async () => {
    const r = await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: `code:${code}` });
    expect(r.status).toBe(readmeTable().get(name)!);
    if (code === 0) {
      expect(r.json).toEqual({ text: "fine" });
      return;
    }
    expect(r.json).toMatchObject({ code: name, message: `backend says ${code}`, details: [], reason: "upstream_status", upstream: "js" });
    expect(typeof r.json.request_id).toBe("string");
  });
}
