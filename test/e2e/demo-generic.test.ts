// End to end over real HTTP: curl-style requests -> gateway -> our demo gRPC backend.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { postJson, startDemoStack, type Stack } from "../helpers/stack.ts";

let s: Stack;
beforeAll(async () => {
  s = await startDemoStack();
});
afterAll(async () => {
  await s.stop();
});

describe("generic route POST /pkg.Service/Method", () => {
  test("echo returns text, n and blob unchanged", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: "héllo", n: "9007199254740993", blob: "AAEC/w==" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ text: "héllo", n: "9007199254740993", blob: "AAEC/w==" });
    expect(r.headers.get("x-request-id")).toBeTruthy();
  });

  test("int64 accepted as a number or a string, emitted as a string", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { n: 12345 });
    expect(r.json.n).toBe("12345");
  });

  test("size returns a blob where byte i is i % 256", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { size: 300 });
    const bytes = Uint8Array.from(atob(r.json.blob), (c) => c.charCodeAt(0));
    expect(bytes.length).toBe(300);
    expect(bytes[255]).toBe(255);
    expect(bytes[256]).toBe(0);
    expect(bytes[299]).toBe(43);
  });

  test("x-request-id from the client is returned", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, {}, { "x-request-id": "abc-123" });
    expect(r.headers.get("x-request-id")).toBe("abc-123");
  });

  test("empty body is the empty message", async () => {
    const res = await fetch(`${s.url}/demo.v1.EchoService/Echo`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });
});

describe("errors are precise JSON", () => {
  test("malformed JSON -> 400 bad_json", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, "{not json");
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("INVALID_ARGUMENT");
    expect(r.json.reason).toBe("bad_json");
  });

  test("wrong field type -> 400 naming the field", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: 5 });
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe("bad_field");
    expect(r.json.message).toContain("demo.v1.EchoRequest.text");
  });

  test("unknown field -> 400 naming the field", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { txet: "x" });
    expect(r.status).toBe(400);
    expect(r.json.reason).toBe("unknown_field");
    expect(r.json.message).toContain('"txet"');
  });

  test("unknown method -> 501 UNIMPLEMENTED", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Nope`, {});
    expect(r.status).toBe(501);
    expect(r.json.code).toBe("UNIMPLEMENTED");
    expect(r.json.reason).toBe("method_not_found");
  });

  test("unknown route -> 404 NOT_FOUND", async () => {
    const r = await postJson(`${s.url}/nothing/here/at/all`, {});
    expect(r.status).toBe(404);
    expect(r.json.code).toBe("NOT_FOUND");
    expect(r.json.reason).toBe("route_not_found");
  });

  test("GET on a generic RPC route -> 405 with Allow", async () => {
    const res = await fetch(`${s.url}/demo.v1.EchoService/Echo`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  test("backend NOT_FOUND -> 404 with the backend's message", async () => {
    const r = await postJson(`${s.url}/market.v1.MarketService/GetOrder`, { client_order_id: "missing" });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe("NOT_FOUND");
    expect(r.json.message).toBe("order missing not found");
  });

  test("backend INTERNAL -> 500, UNAVAILABLE -> 503", async () => {
    expect((await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: "fail:internal" })).status).toBe(500);
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: "fail:unavailable" });
    expect(r.status).toBe(503);
    expect(r.json.code).toBe("UNAVAILABLE");
  });

  test("unsupported content type -> 415", async () => {
    const res = await fetch(`${s.url}/demo.v1.EchoService/Echo`, { method: "POST", body: "<x/>", headers: { "content-type": "application/xml" } });
    expect(res.status).toBe(415);
  });

  test("expired client timeout -> 504 without calling upstream", async () => {
    const before = s.backend.stats.grpc.calls;
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, {}, { "x-sluice-timeout": "0ms" });
    expect(r.status).toBe(504);
    expect(r.json.code).toBe("DEADLINE_EXCEEDED");
    expect(s.backend.stats.grpc.calls).toBe(before);
  });

  test("deadline shorter than the backend -> 504", async () => {
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { delay_ms: 500 }, { "x-sluice-timeout": "50ms" });
    expect(r.status).toBe(504);
    expect(r.json.code).toBe("DEADLINE_EXCEEDED");
  });
});

describe("health", () => {
  test("healthz and readyz", async () => {
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ready" });
  });
});

describe("server streaming", () => {
  test("NDJSON by default, n messages with text<i>", async () => {
    const res = await fetch(`${s.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "x", n: 4 }) });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.text)).toEqual(["x0", "x1", "x2", "x3"]);
  });
});
