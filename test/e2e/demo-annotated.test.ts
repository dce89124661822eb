// google.api.http routes of the demo contracts, end to end over real HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getJson, postJson, startDemoStack, type Stack } from "../helpers/stack.ts";

let s: Stack;
beforeAll(async () => {
  s = await startDemoStack();
});
afterAll(async () => {
  await s.stop();
});

describe("annotated routes", () => {
  test("POST /v1/echo (body *)", async () => {
    const r = await postJson(`${s.url}/v1/echo`, { text: "hi", n: 7 });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ text: "hi", n: "7" });
  });

  test("GET /v1/symbols/{symbol}/klines binds path and query; 1,000 candles is ~200 KiB of JSON", async () => {
    const res = await fetch(`${s.url}/v1/symbols/BTCUSDT/klines?interval=1m&limit=1000`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.symbol).toBe("BTCUSDT");
    expect(body.interval).toBe("1m");
    expect(body.klines.length).toBe(1000);
    expect(text.length).toBeGreaterThan(150 * 1024);
    expect(text.length).toBeLessThan(300 * 1024);
    const k = body.klines[1];
    expect(Number(k.openTime) - Number(body.klines[0].openTime)).toBe(60_000);
    expect(k.high).toBeGreaterThanOrEqual(Math.max(k.open, k.close));
    expect(k.low).toBeLessThanOrEqual(Math.min(k.open, k.close));
  });

  test("query values are typed: a bad integer is a 400 naming the parameter", async () => {
    const r = await getJson(`${s.url}/v1/symbols/BTCUSDT/klines?limit=lots`);
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("limit");
  });

  test("unknown query parameter -> 400 unknown_field", async () => {
    const r = await getJson(`${s.url}/v1/symbols/BTCUSDT/klines?limt=5`);
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe("unknown_field");
    expect(r.json.message).toContain("limt");
  });

  test("backend validation error passes through as 400", async () => {
    const r = await getJson(`${s.url}/v1/symbols/BTCUSDT/klines?interval=7m`);
    expect(r.status).toBe(400);
    expect(r.json.message).toContain("unknown interval");
  });

  test("orders: place with enum as a name, fetch it back; unknown order is 404", async () => {
    const place = await postJson(`${s.url}/v1/orders`, { client_order_id: "ann-1", symbol: "ETHUSDT", side: "SELL", quantity: "2", price: "3000.5" });
    expect(place.status).toBe(200);
    expect(place.json.side).toBe("SELL");
    expect(place.json.status).toBe("ACCEPTED");
    const got = await getJson(`${s.url}/v1/orders/ann-1`);
    expect(got.json.orderId).toBe(place.json.orderId);
    expect((await getJson(`${s.url}/v1/orders/none`)).status).toBe(404);
  });

  test("side as an enum number works too", async () => {
    const r = await postJson(`${s.url}/v1/orders`, { client_order_id: "ann-2", symbol: "X", side: 1, quantity: "1", price: "1" });
    expect(r.json.side).toBe("BUY");
  });

  test("wrong HTTP method -> 405 with Allow", async () => {
    const res = await fetch(`${s.url}/v1/orders`, { method: "PUT", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("POST");
    expect((await res.json()).reason).toBe("method_not_allowed");
  });

  test("verb routes: /v1/echo:stream is the streaming method", async () => {
    const res = await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ text: "v", n: 2 }) });
    expect((await res.text()).trim().split("\n").map((l) => JSON.parse(l).text)).toEqual(["v0", "v1"]);
  });
});

describe("streaming formats", () => {
  const quotes = () => `${s.url}/v1/symbols/BTCUSDT/quotes?count=5`;

  test("NDJSON: one message per line", async () => {
    const res = await fetch(quotes());
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).trimEnd().split("\n");
    expect(lines.length).toBe(5);
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual(["1", "2", "3", "4", "5"]);
  });

  test("SSE: one data event per message", async () => {
    const res = await fetch(quotes(), { headers: { accept: "text/event-stream" } });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events.length).toBe(5);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(JSON.parse(events[4]!.slice(6)).seq).toBe("5");
  });

  test("JSON array", async () => {
    const res = await fetch(quotes(), { headers: { accept: "application/json" } });
    const arr = await res.json();
    expect(arr.length).toBe(5);
    expect(arr[0].symbol).toBe("BTCUSDT");
  });

  test("empty stream: NDJSON empty body, JSON array []", async () => {
    const nd = await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ n: -1 }) });
    expect(nd.status).toBe(200);
    expect(await nd.text()).toBe("");
    const arr = await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ n: -1 }), headers: { accept: "application/json" } });
    expect(await arr.json()).toEqual([]);
  });

  test("error after the first message ends the stream with an error record", async () => {
    const body = JSON.stringify({ text: "fail:midstream", n: 5 });
    const nd = await (await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body })).text();
    const lines = nd.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(3);
    expect(lines[2].error.code).toBe("ABORTED");
    expect(lines[2].error.message).toBe("demo failure mid-stream");
    const sse = await (await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body, headers: { accept: "text/event-stream" } })).text();
    expect(sse).toContain("event: error\ndata: ");
    const arr = await (await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body, headers: { accept: "application/json" } })).json();
    expect(arr.length).toBe(3);
    expect(arr[2].error.code).toBe("ABORTED");
  });
});
