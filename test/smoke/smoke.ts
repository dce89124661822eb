// Per-runtime smoke test, run by the runtime itself (not bun test):
//   node:  npx tsx test/smoke/smoke.ts      deno: npx deno run -A test/smoke/smoke.ts
// Starts the demo backend and the gateway in this runtime, makes real HTTP calls, prints
// "smoke(<runtime>): N passed, M failed" and exits non-zero on any failure.
import { parseConfig } from "../../src/config/index.ts";
import { demoConfig } from "../../src/demo/demo-config.ts";
import { demoDescriptorPath, startDemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { tlsChecks } from "./tls-checks.ts";

const rt = await detectRuntime();
let passed = 0;
let failed = 0;
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
}
function eq(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`expected ${b}, got ${a}`);
}

const descriptorPath = demoDescriptorPath();
const backend = await startDemoBackend({ runtime: rt, descriptorPath, orderLatencyMs: 20 });
const gw = await startGateway({
  config: parseConfig(demoConfig({ port: 0, host: "127.0.0.1", descriptorPath, backendPort: backend.grpcPort, protocol: "grpc" })),
  runtime: rt,
});

await check(`${rt.name}: unary echo over gRPC`, async () => {
  const res = await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "hi", n: "42" }) });
  eq(res.status, 200);
  eq(await res.json(), { text: "hi", n: "42" });
});
await check(`${rt.name}: server streaming as NDJSON`, async () => {
  const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "s", n: 3 }) });
  eq(res.headers.get("content-type"), "application/x-ndjson");
  eq((await res.text()).trim().split("\n").map((l) => JSON.parse(l).text), ["s0", "s1", "s2"]);
});
await check(`${rt.name}: a gzip-compressed stream is flushed per message`, async () => {
  // The demo waits delayMs before each message: if the compressor held data back, the first read
  // would only come with the second message (or the end), not alone.
  const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, {
    method: "POST",
    body: JSON.stringify({ text: "z", n: 2, delayMs: 1000 }),
    headers: { "accept-encoding": "gzip" },
  });
  eq(res.headers.get("content-encoding"), "gzip");
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  eq(text.trim().split("\n").map((l) => JSON.parse(l).text), ["z0"]);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  eq(text.trim().split("\n").map((l) => JSON.parse(l).text), ["z0", "z1"]);
});
await check(`${rt.name}: backend error maps to HTTP`, async () => {
  const res = await fetch(`${gw.url}/market.v1.MarketService/GetOrder`, { method: "POST", body: JSON.stringify({ client_order_id: "nope" }) });
  eq(res.status, 404);
  eq((await res.json()).code, "NOT_FOUND");
});
await check(`${rt.name}: bad JSON is a 400`, async () => {
  const res = await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: "{" });
  eq(res.status, 400);
  await res.body?.cancel();
});

await gw.stop();

// The same gRPC upstream through our own HTTP/2 client (upstreams[].http2Client: "sluice").
const input = demoConfig({ port: 0, host: "127.0.0.1", descriptorPath, backendPort: backend.grpcPort, protocol: "grpc" });
const gw2 = await startGateway({
  config: parseConfig({ ...input, upstreams: input.upstreams.map((u) => ({ ...u, http2Client: "sluice" as const })) }),
  runtime: rt,
});
await check(`${rt.name}: unary echo over gRPC, sluice HTTP/2 client`, async () => {
  const res = await fetch(`${gw2.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "hi", n: "42", size: 100000 }) });
  eq(res.status, 200);
  const json = await res.json();
  eq([json.text, json.n, atob(json.blob).length], ["hi", "42", 100000]);
});
await check(`${rt.name}: server and client streaming, sluice HTTP/2 client`, async () => {
  const res = await fetch(`${gw2.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "s", n: 3 }) });
  eq((await res.text()).trim().split("\n").map((l) => JSON.parse(l).text), ["s0", "s1", "s2"]);
  const body = ["a", "b", "c"].map((t) => JSON.stringify({ text: t })).join("\n");
  const col = await fetch(`${gw2.url}/v1/echo:collect`, { method: "POST", body, headers: { "content-type": "application/x-ndjson" } });
  eq(await col.json(), { text: "abc", n: "3" });
});
await gw2.stop();
backend.kill();
await tlsChecks(rt, check, eq);
console.log(`smoke(${rt.name}): ${passed} passed, ${failed} failed`);
rt.exit(failed === 0 ? 0 : 1);
