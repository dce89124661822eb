import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createHeaderPolicy } from "../header-policy.ts";
import { sizedResponse } from "../sized-response.ts";
import type { RequestRecord } from "../telemetry/request-record.ts";
import { requestScopeMiddleware, scopeOf, type EdgeDeps } from "./request-scope.ts";

const text = new TextEncoder();

function appWith(draining: boolean) {
  const records: RequestRecord[] = [];
  const edge: EdgeDeps = {
    headerPolicy: createHeaderPolicy({ forward: [] }),
    observer: { started: () => {}, finished: (r) => void records.push(r) },
    draining: () => draining,
  };
  const app = new Hono();
  app.use("*", requestScopeMiddleware(edge));
  // Bytes the handler built (the unary JSON reply): finished without reading the body back.
  app.post("/sized", () => sizedResponse(text.encode('{"text":"héllo","n":"42"}'), { status: 200, headers: { "content-type": "application/json", vary: "Accept-Encoding" } }));
  // Built with a request id in its headers: kept when it is the scope's, replaced when it is not.
  app.get("/tagged/:id", (c) => {
    const id = c.req.param("id");
    return sizedResponse(text.encode("{}"), { status: 200, headers: { "content-type": "application/json", "x-request-id": id } }, id);
  });
  // Any other response: read and copied.
  app.get("/plain", () => new Response("plain body ✓", { headers: { "x-custom": "1" } }));
  app.get("/error", () => new Response(JSON.stringify({ code: "NOT_FOUND", reason: "route_not_found", message: "no" }), { status: 404, headers: { "content-type": "application/json" } }));
  // A sized response whose body someone already read: the scope must not count it as sent intact.
  app.get("/sized-used", async (c) => {
    const r = sizedResponse(text.encode("abc"), { status: 200 });
    await r.arrayBuffer();
    scopeOf(c.req.raw, edge);
    return r;
  });
  app.onError(() => new Response("failed", { status: 500 }));
  return { app, records };
}

describe("request scope finishing a response", () => {
  for (const draining of [false, true]) {
    test(`body sizes, x-request-id and headers are the same for built and read bodies (draining: ${draining})`, async () => {
      const { app, records } = appWith(draining);
      const sized = await app.request("/sized", { method: "POST", body: "{}", headers: { "x-request-id": "rid-1", "content-length": "2" } });
      const sizedBody = new Uint8Array(await sized.arrayBuffer());
      expect(sized.status).toBe(200);
      expect(new TextDecoder().decode(sizedBody)).toBe('{"text":"héllo","n":"42"}');
      expect(sized.headers.get("x-request-id")).toBe("rid-1");
      expect(sized.headers.get("content-type")).toBe("application/json");
      expect(sized.headers.get("vary")).toBe("Accept-Encoding");
      expect(sized.headers.get("connection")).toBe(draining ? "close" : null);

      const plain = await app.request("/plain", { headers: { "x-request-id": "rid-2" } });
      const plainBody = new Uint8Array(await plain.arrayBuffer());
      expect(plain.headers.get("x-request-id")).toBe("rid-2");
      expect(plain.headers.get("x-custom")).toBe("1");
      expect(plain.headers.get("connection")).toBe(draining ? "close" : null);

      expect(records.map((r) => [r.requestId, r.status, r.bytesOut, r.outcome])).toEqual([
        ["rid-1", 200, sizedBody.byteLength, "ok"],
        ["rid-2", 200, plainBody.byteLength, "ok"],
      ]);
      expect(records[0]!.bytesIn).toBe(2);
      expect(records[0]!.path).toBe("/sized");
    });
  }

  test("a body built with the request id is not re-tagged; one built with another id is", async () => {
    const { app, records } = appWith(false);
    const same = await app.request("/tagged/rid-7", { headers: { "x-request-id": "rid-7" } });
    expect(same.headers.get("x-request-id")).toBe("rid-7");
    const other = await app.request("/tagged/stale", { headers: { "x-request-id": "rid-8" } });
    expect(other.headers.get("x-request-id")).toBe("rid-8");
    expect(records.map((r) => [r.requestId, r.bytesOut])).toEqual([
      ["rid-7", 2],
      ["rid-8", 2],
    ]);
  });

  test("error bodies are still read for their fields", async () => {
    const { app, records } = appWith(false);
    const res = await app.request("/error");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
    expect(records[0]).toMatchObject({ status: 404, code: "NOT_FOUND", reason: "route_not_found", outcome: "system_error" });
  });

  test("a sized response whose body was already read goes the reading path (and fails there, as before)", async () => {
    const { app, records } = appWith(false);
    const res = await app.request("/sized-used");
    expect(res.status).toBe(500);
    expect(records.length).toBe(1);
    expect(records[0]!.bytesOut).toBe(0);
  });
});
