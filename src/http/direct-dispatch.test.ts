import { describe, expect, test } from "bun:test";
import { Hono, type Context } from "hono";
import { directDispatch } from "./direct-dispatch.ts";
import { errorResponse } from "./error-response.ts";
import { createHeaderPolicy } from "./header-policy.ts";
import { requestScopeMiddleware, scopeOf, serveScoped, type EdgeDeps, type RequestScope } from "./middleware/request-scope.ts";
import { sizedResponse } from "./sized-response.ts";
import type { RequestRecord } from "./telemetry/request-record.ts";

type Env = { Bindings: { remoteAddress?: string } };

// One handler for every case, chosen by path, so the direct path and hono's can be compared.
async function handler(req: Request, env: Env["Bindings"] | undefined, scope: RequestScope): Promise<Response> {
  const path = scope.url.pathname;
  if (path === "/ok") return sizedResponse(new TextEncoder().encode(JSON.stringify({ ok: true, addr: env?.remoteAddress ?? null })), { status: 200, headers: { "content-type": "application/json" } });
  if (path === "/plain") return new Response(`plain ${req.method}`, { status: 201, headers: { "x-custom": "1" } });
  if (path === "/throw") throw new Error("handler failed");
  if (path === "/used") {
    // Its body is gone before the scope finishes it: the scope's read fails and the error replaces it.
    const r = new Response("gone", { status: 200, headers: { "x-custom": "kept", "content-type": "text/plain" } });
    await r.text();
    return r;
  }
  return new Response("other", { status: 404 });
}

function build(direct: boolean, more?: (app: Hono<Env>) => void) {
  const records: RequestRecord[] = [];
  let directCalls = 0;
  const edge: EdgeDeps = { headerPolicy: createHeaderPolicy({ forward: [] }), observer: { started: () => {}, finished: (r) => void records.push(r) } };
  const app = new Hono<Env>();
  const scopeMiddleware = requestScopeMiddleware(edge);
  app.use("*", scopeMiddleware);
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const route = (c: Context<Env>) => handler(c.req.raw, c.env, scopeOf(c.req.raw, edge));
  app.all("*", route);
  const onError = (e: Error) => errorResponse(e);
  app.onError(onError);
  if (direct) {
    directDispatch(app, {
      chain: [scopeMiddleware, route],
      serve: (req, env) => {
        directCalls++;
        return serveScoped(req, edge, (scope) => handler(req, env, scope), onError);
      },
    });
  }
  more?.(app);
  return { app, records, directCalls: () => directCalls };
}

async function snapshot(res: Response) {
  const headers = [...res.headers.entries()].sort(([a], [b]) => a.localeCompare(b));
  return { status: res.status, headers, body: await res.text() };
}

const cases: [string, RequestInit][] = [
  ["/ok", { method: "POST", body: "{}" }],
  ["/plain", { method: "PUT", body: "x" }],
  ["/throw", { method: "POST" }],
  ["/used", { method: "POST" }],
  ["/missing?q=1", { method: "DELETE" }],
  ["/plain", { method: "GET" }],
  ["/healthz", { method: "GET" }],
  ["/ok", { method: "HEAD" }],
];

describe("direct dispatch past hono", () => {
  test("answers, headers and records are the same as through hono", async () => {
    const viaHono = build(false);
    const viaDirect = build(true);
    for (const [path, init] of cases) {
      const headers = { "x-request-id": `rid-${init.method}-${path}` };
      const env = { remoteAddress: "10.1.2.3" };
      const a = await snapshot(await viaHono.app.request(path, { ...init, headers }, env));
      const b = await snapshot(await viaDirect.app.request(path, { ...init, headers }, env));
      expect({ path, method: init.method, ...b }).toEqual({ path, method: init.method, ...a });
    }
    const strip = (r: RequestRecord) => ({ ...r, spanId: "", traceId: "", startMs: 0, durationMs: 0 });
    expect(viaDirect.records.map(strip)).toEqual(viaHono.records.map(strip));
    expect(viaDirect.records.length).toBe(cases.length);
  });

  test("only requests the router sends to exactly the chain take the direct path", async () => {
    // A route added after the direct path was installed is matched by the router, so hono serves it.
    const d = build(true, (app) => app.post("/added", (c) => c.text("added")));
    await d.app.request("/ok", { method: "POST", body: "{}" });
    await d.app.request("/plain");
    expect(d.directCalls()).toBe(2);
    await d.app.request("/healthz"); // an admin route
    await d.app.request("/ok", { method: "HEAD" });
    expect(d.directCalls()).toBe(2);
    const added = await d.app.request("/added", { method: "POST", headers: { "x-request-id": "r" } });
    const viaHono = await build(false, (app) => app.post("/added", (c) => c.text("added"))).app.request("/added", { method: "POST", headers: { "x-request-id": "r" } });
    expect(await snapshot(added)).toEqual(await snapshot(viaHono));
    expect(d.directCalls()).toBe(2);
    await d.app.request("/ok", { method: "POST", body: "{}" });
    expect(d.directCalls()).toBe(3);
  });
});
