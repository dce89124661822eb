// Issue 5: deadline propagation. The backend (our server kit) sees the remaining time as grpc-timeout in
// its metadata and as ctx.deadline; a client-requested timeout is honoured up to the route's maxTimeout;
// a call still running at its deadline is cancelled upstream and answered 504; an already expired
// deadline is answered 504 without calling upstream at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { sleep } from "../../src/core/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

interface Seen {
  grpcTimeout: string | undefined;
  remainingMs: number | undefined;
  aborted?: string;
}
const seen: Seen[] = [];
let server: GrpcServer;
let gw: Gateway;

beforeAll(async () => {
  const rt = await runtime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  server = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry,
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string; delayMs: number }, ctx: HandlerContext) => {
          const s: Seen = { grpcTimeout: ctx.metadata["grpc-timeout"], remainingMs: ctx.deadline === undefined ? undefined : ctx.deadline - Date.now() };
          seen.push(s);
          if (req.delayMs > 0) {
            try {
              await sleep(req.delayMs, ctx.signal);
            } catch (e) {
              s.aborted = (e as Error).name;
              throw e;
            }
          }
          return { text: req.text };
        },
      },
    },
  });
  gw = await startFaultGateway({
    upstream: { name: "demo", endpoints: [`127.0.0.1:${server.port}`] },
    routes: [{ method: "demo.v1.EchoService/Echo", timeout: "700ms", maxTimeout: "1s" }],
    defaults: { timeout: "2s", maxTimeout: "5s" },
  });
});
afterAll(async () => {
  await gw.stop();
  server.destroy();
});

const echo = (body: unknown, headers: Record<string, string> = {}) => call(`${gw.url}/demo.v1.EchoService/Echo`, body, headers);

describe("deadline propagation to a backend built on our server kit", () => {
  test("X-Sluice-Timeout 800ms: the backend sees about 800 ms left, as grpc-timeout and ctx.deadline", async () => {
    const r = await echo({ text: "a" }, { "x-sluice-timeout": "800ms" });
    expect(r.status).toBe(200);
    const s = seen.at(-1)!;
    console.log(`deadline: asked 800ms -> backend grpc-timeout ${s.grpcTimeout}, ${Math.round(s.remainingMs!)} ms left on arrival`);
    expect(s.grpcTimeout).toMatch(/^\d{1,8}[HMSmun]$/);
    expect(s.remainingMs).toBeLessThanOrEqual(800);
    expect(s.remainingMs).toBeGreaterThan(400); // loopback hop: most of it is left
  });

  test("without a header the route timeout (700ms) applies; a larger client request is capped by maxTimeout (1s)", async () => {
    await echo({ text: "b" }, { "grpc-timeout": "10S" });
    const capped = seen.at(-1)!;
    await echo({ text: "c" });
    const route = seen.at(-1)!;
    console.log(`deadline: asked 10S -> ${Math.round(capped.remainingMs!)} ms left (cap 1s); no header -> ${Math.round(route.remainingMs!)} ms left (route timeout 700ms)`);
    expect(capped.remainingMs).toBeLessThanOrEqual(1_000);
    expect(capped.remainingMs).toBeGreaterThan(500);
    expect(route.remainingMs).toBeLessThanOrEqual(700);
    expect(route.remainingMs).toBeGreaterThan(300);
    expect(route.grpcTimeout).toBeDefined();
  });

  test("a call still running at its deadline: 504, and the backend's call is cancelled by the deadline", async () => {
    const r = await echo({ text: "slow", delayMs: 2_000 }, { "x-sluice-timeout": "300ms" });
    expect(r.status).toBe(504);
    expect(r.reason).toBe("upstream_deadline_exceeded");
    expect(r.ms).toBeLessThan(1_500);
    await sleep(100);
    expect(seen.at(-1)!.aborted).toBeDefined();
  });

  test("an expired deadline (timeout 0): 504 without calling upstream", async () => {
    const before = server.stats.calls;
    const a = await echo({ text: "late" }, { "x-sluice-timeout": "0s" });
    const b = await echo({ text: "late" }, { "grpc-timeout": "0m" });
    console.log(`deadline: timeout 0 -> ${a.status} ${a.reason} / ${b.status} ${b.reason}; backend calls +${server.stats.calls - before}`);
    for (const r of [a, b]) {
      expect(r.status).toBe(504);
      expect(r.reason).toBe("upstream_deadline_exceeded");
    }
    expect(server.stats.calls).toBe(before);
  });
});
