// Per-stage cost of one small unary call through the gateway, each stage timed alone in a loop
// (µs per operation, CPU only: no sockets). Run on each runtime to compare:
//   bun bench/stages.ts | npx tsx bench/stages.ts | deno run -A bench/stages.ts   [--n 100000]
// The stages are the real functions the gateway uses, called the way rpc-handler.ts calls them.
import { Hono } from "hono";
import type { JsonValue } from "@bufbuild/protobuf";
import { parseJsonBody, readBodyLimited } from "../src/http/body.ts";
import { demoDescriptorPath } from "../src/demo/demo-backend.ts";
import { detectRuntime } from "../src/runtime/index.ts";
import { EnvelopeDecoder, encodeEnvelope } from "../src/protocol/grpc/index.ts";
import { bindRequest, createHttpRouter, createJsonCodec, indexMethods, loadHttpRoutes, registryFromDescriptorSets } from "../src/transcode/index.ts";
import { requestHeaders } from "../src/upstream/grpc/grpc-call.ts";
import { SMALL_ECHO } from "./rows.ts";

const rt = await detectRuntime();
const args = rt.args();
const nArg = args.indexOf("--n");
const N = nArg >= 0 ? Number(args[nArg + 1]) : 100_000;

const registry = registryFromDescriptorSets([await rt.readFile(demoDescriptorPath())]);
const codec = createJsonCodec(registry);
const methods = indexMethods(registry);
const echo = methods.get("/demo.v1.EchoService/Echo")!;
const router = createHttpRouter(loadHttpRoutes(registry).items);
const URL_S = "http://127.0.0.1:8181/v1/echo";
const headers = { "content-type": "application/json", "content-length": String(SMALL_ECHO.length) };
const mkReq = () => new Request(URL_S, { method: "POST", body: SMALL_ECHO, headers });

const encoded = codec.encode(echo.input, JSON.parse(SMALL_ECHO) as JsonValue);
if (!encoded.ok) throw encoded.error;
const reqBytes = encoded.value;
const replyBytes = reqBytes; // EchoResponse has the same fields as the request for this body
const replyEnvelope = encodeEnvelope(replyBytes);
const replyJson = codec.decode(echo.output, replyBytes);
const ctx = {
  session: undefined as never,
  endpoint: "127.0.0.1:50151",
  scheme: "http",
  authority: "127.0.0.1:50151",
  userAgent: "sluice/0.1 grpc",
  maxMessageBytes: 4 << 20,
  goawayLastStreamId: () => undefined,
};
const hono = new Hono();
hono.all("*", (c) => c.json({ ok: true }));

type Stage = [name: string, fn: () => unknown, async?: boolean];
let sink: unknown;
const stages: Stage[] = [
  ["new Request (POST, small body)  [client side, for reference]", mkReq],
  ["request.headers.get x3", () => { const r = PRE[i++ % PRE.length]!; return [r.headers.get("x-request-id"), r.headers.get("content-type"), r.headers.get("x-sluice-timeout")]; }],
  ["new URL(req.url)", () => new URL(URL_S)],
  ["crypto.randomUUID()", () => crypto.randomUUID()],
  ["router.lookup + bindRequest", () => {
    const url = new URL(URL_S);
    const r = router.lookup("POST", url.pathname);
    if (r.kind !== "match") throw new Error("no match");
    return bindRequest(r.route, r.params, url.searchParams, PARSED);
  }],
  ["readBodyLimited(req) (getReader loop)", async () => readBodyLimited(mkReq(), 1 << 22), true],
  ["req.arrayBuffer()", async () => mkReq().arrayBuffer(), true],
  ["req.text()", async () => mkReq().text(), true],
  ["parseJsonBody (TextDecoder + JSON.parse)", () => parseJsonBody(BODY_BYTES)],
  ["codec.encode (fromJson + toBinary)", () => codec.encode(echo.input, PARSED as JsonValue)],
  ["requestHeaders (h2 request headers)", () => requestHeaders(ctx, { method: echo.ref, deadline: Date.now() + 30_000, metadata: { "x-request-id": "abc" } })],
  ["encodeEnvelope", () => encodeEnvelope(reqBytes)],
  ["EnvelopeDecoder.push", () => new EnvelopeDecoder(4 << 20).push(replyEnvelope, (m) => (sink = m))],
  ["codec.decode (fromBinary + toJson)", () => codec.decode(echo.output, replyBytes)],
  ["JSON.stringify(reply)", () => JSON.stringify(replyJson)],
  ["new Response(string, json headers)", () => new Response('{"text":"hello","n":"42"}', { status: 200, headers: { "content-type": "application/json" } })],
  ["response.headers.set", () => new Response("x").headers.set("x-request-id", "abc")],
  ["hono app.fetch, trivial c.json route (incl. new Request)", async () => hono.fetch(mkReq()), true],
];
const BODY_BYTES = new TextEncoder().encode(SMALL_ECHO);
const PARSED = JSON.parse(SMALL_ECHO) as unknown;
const PRE = Array.from({ length: 1024 }, mkReq);
let i = 0;

async function time(fn: () => unknown, isAsync: boolean, n: number): Promise<number> {
  const t0 = performance.now();
  if (isAsync) for (let k = 0; k < n; k++) sink = await (fn() as Promise<unknown>);
  else for (let k = 0; k < n; k++) sink = fn();
  return ((performance.now() - t0) * 1000) / n;
}

console.log(`runtime: ${rt.name}, n = ${N} per stage (after a warm-up of n/5)`);
for (const [name, fn, isAsync] of stages) {
  await time(fn, !!isAsync, Math.ceil(N / 5));
  const us = await time(fn, !!isAsync, N);
  console.log(`${us.toFixed(2).padStart(8)} µs  ${name}`);
}
void sink;
