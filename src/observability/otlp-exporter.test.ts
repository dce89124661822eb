import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { msToUnixNano, OtlpHttpSpanExporter, SpanKind, SpanStatusCode, type SpanData } from "./index.ts";

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: unknown;
}

let server: Server;
let base = "";
let received: Received[] = [];
let respond: { status: number; body: string } = { status: 200, body: "{}" };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        path: req.url ?? "",
        contentType: req.headers["content-type"],
        auth: req.headers["authorization"] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      res.writeHead(respond.status, { "content-type": "application/json" });
      res.end(respond.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received = [];
  respond = { status: 200, body: "{}" };
});

function span(i: number, extra: Partial<SpanData> = {}): SpanData {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: `00f067aa0ba902b${i}`,
    name: `span-${i}`,
    kind: SpanKind.server,
    startTimeUnixNano: 1_700_000_000_123_456_789n + BigInt(i),
    endTimeUnixNano: 1_700_000_000_223_456_789n + BigInt(i),
    ...extra,
  };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function spansOf(r: Received): { name: string }[] {
  const body = r.body as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
  return body.resourceSpans[0]!.scopeSpans[0]!.spans;
}

describe("OTLP/HTTP JSON exporter", () => {
  test("posts the OTLP JSON encoding to /v1/traces on close", async () => {
    const exp = new OtlpHttpSpanExporter({
      url: `${base}/v1/traces`,
      serviceName: "sluice-test",
      resourceAttributes: { "deployment.environment": "test" },
      scope: { name: "sluice", version: "0.1.0" },
      headers: { authorization: "Bearer collector" },
      flushIntervalMs: 0,
    });
    exp.export(
      span(1, {
        parentSpanId: "b7ad6b7169203331",
        attributes: { "http.route": "/v1/users/{id}", "http.response.status_code": 200, ratio: 0.25, retried: false, tags: ["a", "b"] },
        status: { code: SpanStatusCode.error, message: "upstream down" },
        traceState: "rojo=1",
        flags: 1,
      }),
    );
    exp.export(span(2, { kind: SpanKind.client }));
    expect(received.length).toBe(0);
    await exp.close();
    expect(received.length).toBe(1);
    const r = received[0]!;
    expect(r.method).toBe("POST");
    expect(r.path).toBe("/v1/traces");
    expect(r.contentType).toBe("application/json");
    expect(r.auth).toBe("Bearer collector");
    expect(r.body).toEqual({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: "deployment.environment", value: { stringValue: "test" } },
              { key: "service.name", value: { stringValue: "sluice-test" } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: "sluice", version: "0.1.0" },
              spans: [
                {
                  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
                  spanId: "00f067aa0ba902b1",
                  parentSpanId: "b7ad6b7169203331",
                  traceState: "rojo=1",
                  flags: 1,
                  name: "span-1",
                  kind: 2,
                  startTimeUnixNano: "1700000000123456790",
                  endTimeUnixNano: "1700000000223456790",
                  attributes: [
                    { key: "http.route", value: { stringValue: "/v1/users/{id}" } },
                    { key: "http.response.status_code", value: { intValue: "200" } },
                    { key: "ratio", value: { doubleValue: 0.25 } },
                    { key: "retried", value: { boolValue: false } },
                    { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } } },
                  ],
                  status: { code: 2, message: "upstream down" },
                },
                {
                  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
                  spanId: "00f067aa0ba902b2",
                  name: "span-2",
                  kind: 3,
                  startTimeUnixNano: "1700000000123456791",
                  endTimeUnixNano: "1700000000223456791",
                  attributes: [],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(exp.stats()).toMatchObject({ exported: 2, failed: 0, dropped: 0, queued: 0, requests: 1 });
    // Closed: new spans are dropped and counted.
    expect(exp.export(span(3))).toBe(false);
    expect(exp.stats().dropped).toBe(1);
  });

  test("batches by maxBatchSize", async () => {
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", maxBatchSize: 2, flushIntervalMs: 0 });
    for (let i = 0; i < 5; i++) exp.export(span(i));
    await exp.close();
    const names = received.map((r) => spansOf(r).map((s) => s.name));
    expect(names.flat().sort()).toEqual(["span-0", "span-1", "span-2", "span-3", "span-4"]);
    expect(names.map((n) => n.length).sort()).toEqual([1, 2, 2]);
    expect(exp.stats().exported).toBe(5);
  });

  test("bounded queue: spans beyond maxQueueSize are dropped and counted", async () => {
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", maxQueueSize: 3, flushIntervalMs: 0 });
    const accepted = [0, 1, 2, 3, 4].map((i) => exp.export(span(i)));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(exp.stats()).toMatchObject({ queued: 3, dropped: 2 });
    await exp.close();
    expect(received.flatMap(spansOf).map((s) => s.name)).toEqual(["span-0", "span-1", "span-2"]);
  });

  test("flushes on the interval without being asked", async () => {
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", flushIntervalMs: 20 });
    exp.export(span(1));
    await waitFor(() => received.length === 1);
    expect(spansOf(received[0]!).map((s) => s.name)).toEqual(["span-1"]);
    await exp.close();
    expect(received.length).toBe(1);
  });

  test("HTTP errors and unreachable collectors are counted, never thrown", async () => {
    respond = { status: 503, body: "{}" };
    const errors: unknown[] = [];
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", flushIntervalMs: 0, onError: (e) => errors.push(e) });
    exp.export(span(1));
    exp.export(span(2));
    await exp.flush();
    expect(exp.stats()).toMatchObject({ failed: 2, exported: 0 });
    expect(String(errors[0])).toContain("503");

    // A port nobody listens on: grab one, then close it.
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", r));
    const deadPort = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const dead = new OtlpHttpSpanExporter({ url: `http://127.0.0.1:${deadPort}/v1/traces`, serviceName: "s", flushIntervalMs: 0, timeoutMs: 2000 });
    dead.export(span(1));
    await dead.close();
    expect(dead.stats()).toMatchObject({ failed: 1, exported: 0 });
    await exp.close();
  });

  test("partialSuccess.rejectedSpans is counted", async () => {
    respond = { status: 200, body: JSON.stringify({ partialSuccess: { rejectedSpans: "1", errorMessage: "bad span" } }) };
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", flushIntervalMs: 0 });
    exp.export(span(1));
    exp.export(span(2));
    await exp.close();
    expect(exp.stats()).toMatchObject({ exported: 1, rejected: 1 });
  });

  test("a full batch triggers a flush by itself", async () => {
    const exp = new OtlpHttpSpanExporter({ url: `${base}/v1/traces`, serviceName: "s", maxBatchSize: 3, flushIntervalMs: 0 });
    for (let i = 0; i < 3; i++) exp.export(span(i));
    await waitFor(() => received.length === 1);
    expect(spansOf(received[0]!).length).toBe(3);
    await exp.close();
  });

  test("msToUnixNano keeps ms precision", () => {
    expect(msToUnixNano(1_700_000_000_123.5)).toBe(1_700_000_000_123_500_000n);
    expect(msToUnixNano(0)).toBe(0n);
  });
});
