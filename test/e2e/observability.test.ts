// Metrics, tracing, access logs, header policy, request ids and CORS, end to end: one gateway with a
// grpc-js backend (records the metadata it gets) and the demo backend (streams, slow orders), a
// local OTLP/HTTP collector, and the gateway's log lines captured.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { parseConfig } from "../../src/config/index.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { scrape } from "../helpers/prometheus.ts";
import { DESCRIPTORS, TEST_DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

let gw: Gateway;
let grpcJs: Awaited<ReturnType<typeof startGrpcJsServer>>;
let demo: DemoBackend;
let collector: Server;
const seen: Record<string, string>[] = [];
const logs: Record<string, any>[] = [];
const exported: any[] = [];

const TP_IN = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const roundtrip = (body: unknown, headers: Record<string, string> = {}) => postJson(`${gw.url}/testdata.v1.MappingService/Roundtrip`, body, headers);
const tpParts = (tp: string | undefined) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(tp ?? "");

async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(TEST_DESCRIPTORS)]);
  grpcJs = await startGrpcJsServer(registry, {
    "testdata.v1.MappingService": {
      Roundtrip: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        const md: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
        seen.push(md);
        if (call.request.tags?.[0] === "fail-internal") return cb({ code: grpc.status.INTERNAL, details: "boom" });
        cb(null, call.request);
      },
    },
  });
  demo = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS, orderLatencyMs: 300 });
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/v1/traces") exported.push(JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  gw = await startGateway({
    runtime: rt,
    logger: quietLogger((l) => logs.push(JSON.parse(l))),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [TEST_DESCRIPTORS],
      upstreams: [
        { name: "grpcjs", endpoints: [`127.0.0.1:${grpcJs.port}`] },
        { name: "demo", endpoints: [`127.0.0.1:${demo.grpcPort}`] },
      ],
      services: [
        { match: "testdata.v1.*", upstream: "grpcjs" },
        { match: "*", upstream: "demo" },
      ],
      routes: [{ method: "market.v1.MarketService/PlaceOrder", onClientDisconnect: "continue" }],
      headers: { forward: ["x-tenant-id"] },
      cors: { origins: ["https://app.example"], credentials: true, maxAge: "10m" },
      tracing: { serviceName: "sluice-test", otlp: { endpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`, flushInterval: "50ms" } },
    }),
  });
});

afterAll(async () => {
  await gw.stop({ timeoutMs: 2000 });
  grpcJs.server.forceShutdown();
  demo.kill();
  collector.close();
});

describe("metrics", () => {
  test("the exposition parses and counters move with the requests (exact values)", async () => {
    for (let i = 0; i < 3; i++) expect((await roundtrip({ tags: ["ok"] })).status).toBe(200);
    expect((await roundtrip({ tags: ["fail-internal"] })).status).toBe(500);
    const m = await scrape(gw.url);
    const route = "testdata.v1.MappingService/Roundtrip";
    expect(m.types.get("sluice_http_requests_total")).toBe("counter");
    expect(m.types.get("sluice_http_request_duration_seconds")).toBe("histogram");
    expect(m.value("sluice_http_requests_total", { route, method: "POST", status: "200" })).toBe(3);
    expect(m.value("sluice_http_requests_total", { route, method: "POST", status: "500" })).toBe(1);
    expect(m.value("sluice_http_request_duration_seconds_count", { route })).toBe(4);
    expect(m.value("sluice_http_request_duration_seconds_bucket", { route, le: "+Inf" })).toBe(4);
    expect(m.value("sluice_upstream_calls_total", { upstream: "grpcjs", method: route, code: "OK" })).toBe(3);
    expect(m.value("sluice_upstream_calls_total", { upstream: "grpcjs", method: route, code: "INTERNAL" })).toBe(1);
    expect(m.value("sluice_upstream_call_duration_seconds_count", { upstream: "grpcjs", method: route })).toBe(4);
    const endpoint = `127.0.0.1:${grpcJs.port}`;
    expect(m.value("sluice_upstream_attempts_total", { upstream: "grpcjs", endpoint, code: "OK" })).toBe(3);
    expect(m.value("sluice_upstream_attempts_total", { upstream: "grpcjs", endpoint, code: "INTERNAL" })).toBe(1);
    expect(m.value("sluice_upstream_connections", { upstream: "grpcjs", endpoint, state: "ready" })).toBe(1);
    expect(m.value("sluice_upstream_connections_opened_total", { upstream: "grpcjs", endpoint })).toBe(1);
    expect(m.value("sluice_upstream_in_flight", { upstream: "grpcjs", endpoint })).toBe(0);
    // The scrape itself is still in flight while it renders.
    expect(m.value("sluice_http_requests_in_flight")).toBe(1);
    expect(m.value("sluice_ready")).toBe(1);
    expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(0);
    // Histogram buckets are cumulative.
    const buckets = m.samples.filter((s) => s.name === "sluice_http_request_duration_seconds_bucket" && s.labels["route"] === route).map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

    const again = await scrape(gw.url);
    expect(again.value("sluice_http_requests_total", { route: "/metrics", method: "GET", status: "200" })).toBe(1);
  });

  test("streamed bytes are counted as sent", async () => {
    // The metric counts bytes on the wire; fetch would hand us a compressed stream decompressed.
    const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "s", n: 4 }), headers: { "accept-encoding": "identity" } });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBeGreaterThan(0);
    const m = await scrape(gw.url);
    expect(m.value("sluice_http_response_bytes_total", { route: "demo.v1.EchoService/EchoStream" })).toBe(body.byteLength);
    expect(m.value("sluice_http_requests_total", { route: "demo.v1.EchoService/EchoStream", method: "POST", status: "200" })).toBe(1);
  });

  test("a call that finishes after its client left is counted and logged", async () => {
    const ctl = new AbortController();
    const pending = fetch(`${gw.url}/v1/orders`, {
      method: "POST",
      signal: ctl.signal,
      body: JSON.stringify({ client_order_id: "gone-1", symbol: "BTCUSDT", side: "BUY", quantity: "1", price: "1" }),
    }).catch(() => "aborted");
    await new Promise((r) => setTimeout(r, 80));
    ctl.abort();
    expect(await pending).toBe("aborted");
    // The order (300 ms at the backend) completes although nobody waits for it any more.
    const m = await waitFor("the order to complete", async () => {
      const x = await scrape(gw.url);
      return x.value("sluice_calls_finished_after_client_left_total", { upstream: "demo", method: "market.v1.MarketService/PlaceOrder", outcome: "ok" }) === 1 ? x : undefined;
    });
    expect(m.value("sluice_http_client_gone_total", { route: "market.v1.MarketService/PlaceOrder" })).toBe(1);
    expect(m.value("sluice_upstream_calls_total", { upstream: "demo", method: "market.v1.MarketService/PlaceOrder", code: "OK" })).toBe(1);
    expect(logs.some((l) => l.msg === "call finished after client left" && l.rpc === "/market.v1.MarketService/PlaceOrder")).toBe(true);
  });
});

describe("tracing", () => {
  test("an incoming traceparent reaches the backend with the same trace id and a new parent span id", async () => {
    seen.length = 0;
    const r = await roundtrip({}, { traceparent: TP_IN, tracestate: "vendor=abc,other=1" });
    expect(r.status).toBe(200);
    const out = tpParts(seen[0]!["traceparent"]);
    expect(out?.[1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(out?.[2]).not.toBe("00f067aa0ba902b7");
    expect(out?.[3]).toBe("01");
    expect(seen[0]!["tracestate"]).toBe("vendor=abc,other=1");
  });

  test("exported spans: a server span child of the caller, a client span whose id went upstream", async () => {
    seen.length = 0;
    const rid = "trace-export-1";
    expect((await roundtrip({}, { traceparent: TP_IN, "x-request-id": rid })).status).toBe(200);
    const upstreamParent = tpParts(seen[0]!["traceparent"])![2]!;
    const spans = await waitFor("exported spans", () => {
      const all = exported.flatMap((req) => req.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
      const server = all.find((s: any) => s.kind === 2 && s.attributes.some((a: any) => a.key === "sluice.request_id" && a.value.stringValue === rid));
      const client = server && all.find((s: any) => s.kind === 3 && s.parentSpanId === server.spanId);
      return server && client ? { server, client } : undefined;
    });
    expect(spans.server.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(spans.server.parentSpanId).toBe("00f067aa0ba902b7");
    expect(spans.client.spanId).toBe(upstreamParent);
    expect(spans.client.name).toBe("testdata.v1.MappingService/Roundtrip");
    const resource = exported[0].resourceSpans[0].resource.attributes;
    expect(resource).toContainEqual({ key: "service.name", value: { stringValue: "sluice-test" } });
    // The access log names the same ids.
    const line = logs.find((l) => l.msg === "request" && l.request_id === rid);
    expect(line).toMatchObject({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: spans.server.spanId });
  });

  test("no (or an invalid) traceparent: a new trace; its id is in the error body and the backend's traceparent", async () => {
    for (const headers of [{}, { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }] as Record<string, string>[]) {
      seen.length = 0;
      const r = await roundtrip({ tags: ["fail-internal"] }, headers);
      expect(r.status).toBe(500);
      const out = tpParts(seen[0]!["traceparent"]);
      expect(out).not.toBeNull();
      expect(r.json.trace_id).toBe(out![1]);
      expect(r.json.trace_id).not.toBe("00000000000000000000000000000000");
    }
  });

  test("an unsampled caller stays unsampled: flags kept upstream, no spans exported", async () => {
    seen.length = 0;
    const rid = "unsampled-1";
    await roundtrip({}, { traceparent: "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "x-request-id": rid });
    expect(tpParts(seen[0]!["traceparent"])?.[3]).toBe("00");
    // Several flush intervals pass; spans of other requests do get exported meanwhile.
    await new Promise((r) => setTimeout(r, 200));
    const all = exported.flatMap((req) => req.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)));
    expect(all.some((s: any) => s.traceId === "5bf92f3577b34da6a3ce929d0e0e4736")).toBe(false);
  });
});

describe("access log", () => {
  test("one JSON line per request with ids, route, upstream, endpoint, status, code, durations, bytes; no secrets", async () => {
    const rid = "log-line-1";
    const secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    await fetch(`${gw.url}/testdata.v1.MappingService/Roundtrip?api_key=hunter2`, {
      method: "POST",
      body: JSON.stringify({ tags: ["fail-internal"] }),
      headers: { "x-request-id": rid, authorization: `Bearer ${secret}`, "content-type": "application/json" },
    }).then((r) => r.text());
    const lines = logs.filter((l) => l.request_id === rid);
    expect(lines.length).toBe(1);
    const l = lines[0]!;
    expect(l).toMatchObject({
      level: "error",
      msg: "request",
      method: "POST",
      path: "/testdata.v1.MappingService/Roundtrip",
      route: "testdata.v1.MappingService/Roundtrip",
      upstream: "grpcjs",
      endpoint: `127.0.0.1:${grpcJs.port}`,
      status: 500,
      code: "INTERNAL",
      outcome: "system_error",
      reason: "upstream_status",
    });
    expect(l.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(l.duration_ms).toBeGreaterThan(0);
    expect(l.upstream_ms).toBeGreaterThan(0);
    expect(l.bytes_in).toBe(JSON.stringify({ tags: ["fail-internal"] }).length);
    expect(l.bytes_out).toBeGreaterThan(0);
    const all = JSON.stringify(logs);
    expect(all).not.toContain(secret);
    expect(all).not.toContain("hunter2");
  });

  test("probes log at debug, successes at info", async () => {
    await fetch(`${gw.url}/healthz`);
    const probe = logs.filter((l) => l.path === "/healthz").at(-1);
    expect(probe).toMatchObject({ level: "debug", route: "/healthz", status: 200 });
    await roundtrip({}, { "x-request-id": "ok-line" });
    expect(logs.find((l) => l.request_id === "ok-line")).toMatchObject({ level: "info", status: 200, code: "OK", outcome: "ok" });
  });
});

describe("headers", () => {
  test("allow-listed headers are forwarded, others are not; the request id is kept or generated, and returned", async () => {
    seen.length = 0;
    const r = await roundtrip({}, { "x-tenant-id": "t-9", "x-secret-internal": "no", "x-request-id": "req-abc" });
    expect(seen[0]!["x-tenant-id"]).toBe("t-9");
    expect(seen[0]!["x-secret-internal"]).toBeUndefined();
    expect(seen[0]!["x-request-id"]).toBe("req-abc");
    expect(r.headers.get("x-request-id")).toBe("req-abc");
    seen.length = 0;
    const long = "x".repeat(500);
    const r2 = await roundtrip({}, { "x-request-id": long });
    const generated = r2.headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!["x-request-id"]).toBe(generated!);
    expect((await fetch(`${gw.url}/readyz`)).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("CORS: preflight for an allowed origin, nothing for others; actual responses expose x-request-id", async () => {
    const pre = await fetch(`${gw.url}/testdata.v1.MappingService/Roundtrip`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    expect(pre.headers.get("access-control-allow-headers")).toBe("content-type,authorization");
    expect(pre.headers.get("access-control-max-age")).toBe("600");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const other = await fetch(`${gw.url}/testdata.v1.MappingService/Roundtrip`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const actual = await roundtrip({}, { origin: "https://app.example" });
    expect(actual.status).toBe(200);
    expect(actual.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(actual.headers.get("access-control-expose-headers")).toBe("x-request-id");
  });
});
