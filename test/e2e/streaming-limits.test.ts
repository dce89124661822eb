// Route admission policies apply to streaming calls as to unary ones: a rate limit answers the
// stream past the burst 429 with Retry-After (server and client streaming), a route bulkhead counts
// an open stream as a call in flight until it ends, and the upstream's circuit breaker refuses
// streams (503 circuit_open) once streams that failed before replying opened it. A stream that
// replied and was then cut by its deadline is no sign of ill health and doesn't open it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { GatewayError, GrpcCode, sleep } from "../../src/core/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway, type RouteInput, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { waitFor } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let server: GrpcServer;
/** Streams the backend started, by request text. */
const started: string[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const rt = await runtime();
  server = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string }) => ({ text: req.text }),
        "demo.v1.EchoService/EchoStream": async function* (req: { text: string; n: bigint; delayMs: number }, ctx: HandlerContext) {
          started.push(req.text);
          if (req.text.startsWith("fail")) throw new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: "test", message: "backend unavailable" });
          for (let i = 0; i < Number(req.n); i++) {
            if (i > 0) await sleep(req.delayMs, ctx.signal);
            yield { text: req.text, n: BigInt(i) };
          }
        },
        "demo.v1.EchoService/Collect": async (reqs: AsyncIterable<{ text: string }>) => {
          let text = "";
          let n = 0n;
          for await (const r of reqs) {
            if (n === 0n) started.push(r.text);
            n++;
            text += r.text;
          }
          return { text, n };
        },
      },
    },
  });
});

afterAll(async () => {
  for (const c of cleanup) await c();
  server.destroy();
});

async function gateway(routes: RouteInput[], upstream: Partial<UpstreamInput> = {}): Promise<Gateway> {
  const gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${server.port}`], ...upstream }, routes });
  cleanup.push(() => gw.stop());
  return gw;
}

function stream(gw: Gateway, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, signal });
}

function collect(gw: Gateway, lines: unknown[]): Promise<Response> {
  return fetch(`${gw.url}/demo.v1.EchoService/Collect`, { method: "POST", body: lines.map((l) => JSON.stringify(l)).join("\n"), headers: { "content-type": "application/x-ndjson" } });
}

async function expectRefused(res: Response, status: number, reason: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  expect({ status: res.status, reason: body.reason }).toEqual({ status, reason });
  return body;
}

describe("route rate limits on streaming routes", () => {
  test("server streaming, burst 2: the third stream gets 429 rate_limited with Retry-After, the backend never sees it", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/EchoStream", rateLimit: { ratePerSec: 0.01, burst: 2 } }]);
    for (const text of ["rl-s1", "rl-s2"]) {
      const ok = await stream(gw, { text, n: 2 });
      expect(ok.status).toBe(200);
      expect((await ok.text()).trim().split("\n")).toHaveLength(2);
    }
    const res = await stream(gw, { text: "rl-s3", n: 2 });
    const retryAfter = res.headers.get("retry-after");
    const body = await expectRefused(res, 429, "rate_limited");
    console.log(`stream limits: 3rd server stream -> 429 Retry-After ${retryAfter}`);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(body.upstream).toBe("demo");
    expect(started).not.toContain("rl-s3");
  });

  test("client streaming, burst 2: the third upload gets 429 rate_limited with Retry-After", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/Collect", rateLimit: { ratePerSec: 0.01, burst: 2 } }]);
    for (const text of ["rl-c1", "rl-c2"]) {
      const ok = await collect(gw, [{ text }, { text: "+" }]);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { n: string }).n).toBe("2");
    }
    const res = await collect(gw, [{ text: "rl-c3" }]);
    const retryAfter = res.headers.get("retry-after");
    await expectRefused(res, 429, "rate_limited");
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(started).not.toContain("rl-c3");
  });
});

describe("route bulkhead on a streaming route", () => {
  test("maxConcurrent 1: a second stream is refused 503 overloaded while the first is open, admitted once it ended", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/EchoStream", maxConcurrent: 1 }]);
    const first = await stream(gw, { text: "bh-1", n: 3, delayMs: 300 });
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the first message: the stream is open
    await expectRefused(await stream(gw, { text: "bh-2", n: 1 }), 503, "overloaded");
    while (!(await reader.read()).done);
    // The slot is freed when the upstream stream has ended (just after the last byte reached us).
    const third = await waitFor(async () => {
      const r = await stream(gw, { text: "bh-3", n: 1 });
      if (r.status === 200) return r;
      await r.body?.cancel();
      return undefined;
    }, 5_000, 50);
    expect(third?.status).toBe(200);
    expect(await third!.text()).toContain("bh-3");
    expect(started).not.toContain("bh-2");
  });

  test("a stream whose client went away frees its slot", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/EchoStream", maxConcurrent: 1 }]);
    const client = new AbortController();
    const first = await stream(gw, { text: "bh-gone", n: 100, delayMs: 200 }, client.signal);
    await first.body!.getReader().read();
    client.abort();
    const next = await waitFor(async () => {
      const r = await stream(gw, { text: "bh-after", n: 1 });
      if (r.status === 200) return r;
      await r.body?.cancel();
      return undefined;
    }, 5_000, 50);
    expect(next?.status).toBe(200);
    await next!.text();
  });
});

describe("upstream circuit breaker on streaming routes", () => {
  const breaker = { breaker: { threshold: 0.5, minSamples: 2, window: "30s", cooldown: "60s" } };

  test("streams failing before a reply open it; then streams and unary calls are refused 503 circuit_open", async () => {
    const gw = await gateway([], breaker);
    for (const text of ["fail-1", "fail-2"]) await expectRefused(await stream(gw, { text, n: 1 }), 503, "upstream_status");
    const refused = await stream(gw, { text: "cb-after", n: 1 });
    const retryAfter = refused.headers.get("retry-after");
    await expectRefused(refused, 503, "circuit_open");
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(started).not.toContain("cb-after");
    const unary = await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "u" }) });
    await expectRefused(unary, 503, "circuit_open");
  });

  test("streams that replied and were then cut by the route deadline don't open it", async () => {
    const gw = await gateway([{ method: "demo.v1.EchoService/EchoStream", timeout: "300ms" }], breaker);
    for (let i = 0; i < 3; i++) {
      const res = await stream(gw, { text: `dl-${i}`, n: 100, delayMs: 100 });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain("DEADLINE_EXCEEDED"); // the final error record
    }
    const after = await stream(gw, { text: "dl-after", n: 1 });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain("dl-after");
  });
});
