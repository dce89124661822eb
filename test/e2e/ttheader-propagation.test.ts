// Issues 5 and 7 over Kitex TTHeader (mux and pingpong), end to end: what the gateway puts in the
// TTHeader request reaches a handler on our TTHeader server. The remaining deadline travels as the RPC
// timeout int header (key 12) and becomes the handler's ctx.deadline; W3C trace context travels as
// RPC_TRANSIT_traceparent (same trace id, a new parent span id); x-request-id and allow-listed headers
// travel as transit keys, other client headers don't; an expired deadline never reaches the backend.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveTTHeader, type HandlerContext, type TTHeaderServer } from "../../src/backend/index.ts";
import { sleep } from "../../src/core/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { PROTOCOLS, runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

interface Seen {
  text: string;
  metadata: Record<string, string>;
  remainingMs: number | undefined;
  aborted: boolean;
}
const seen: Seen[] = [];
let server: TTHeaderServer;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

beforeAll(async () => {
  const rt = await runtime();
  server = await serveTTHeader({
    listenTcp: rt.listenTcp,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string; delayMs: number }, ctx: HandlerContext) => {
          const s: Seen = { text: req.text, metadata: { ...ctx.metadata }, remainingMs: ctx.deadline === undefined ? undefined : ctx.deadline - Date.now(), aborted: false };
          seen.push(s);
          if (req.delayMs > 0) {
            try {
              await sleep(req.delayMs, ctx.signal);
            } catch (e) {
              s.aborted = true;
              throw e;
            }
          }
          return { text: req.text };
        },
      },
    },
  });
});
afterAll(async () => {
  await server.destroy();
});

const seenFor = (text: string) => seen.find((s) => s.text === text);

for (const mode of ["ttheader-mux", "ttheader-pool"] as const) {
  describe(`TTHeader ${mode}`, () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startFaultGateway({
        upstream: { name: "tt", ...PROTOCOLS[mode], endpoints: [`127.0.0.1:${server.port}`] },
        routes: [{ method: "demo.v1.EchoService/Echo", timeout: "700ms", maxTimeout: "1s" }],
      });
      // startFaultGateway has no headers section: reload with one that forwards x-tenant-id.
      await gw.reload({ ...gw.config, headers: { ...gw.config.headers, forward: ["x-tenant-id"] } });
    });
    afterAll(async () => {
      await gw.stop({ timeoutMs: 1000 });
    });
    const echo = (body: Record<string, unknown>, headers: Record<string, string> = {}) => call(`${gw.url}/demo.v1.EchoService/Echo`, body, headers);

    test("the remaining deadline reaches the handler (X-Sluice-Timeout, route timeout, maxTimeout cap)", async () => {
      expect((await echo({ text: `${mode}-asked` }, { "x-sluice-timeout": "800ms" })).status).toBe(200);
      expect((await echo({ text: `${mode}-route` })).status).toBe(200);
      expect((await echo({ text: `${mode}-capped` }, { "grpc-timeout": "10S" })).status).toBe(200);
      const [asked, route, capped] = [`${mode}-asked`, `${mode}-route`, `${mode}-capped`].map((t) => seenFor(t)!);
      console.log(`ttheader deadline/${mode}: asked 800ms -> ${Math.round(asked!.remainingMs!)} ms left; route 700ms -> ${Math.round(route!.remainingMs!)}; asked 10S (cap 1s) -> ${Math.round(capped!.remainingMs!)}`);
      expect(asked!.remainingMs).toBeLessThanOrEqual(800);
      expect(asked!.remainingMs).toBeGreaterThan(400);
      expect(route!.remainingMs).toBeLessThanOrEqual(700);
      expect(route!.remainingMs).toBeGreaterThan(300);
      expect(capped!.remainingMs).toBeLessThanOrEqual(1_000);
      expect(capped!.remainingMs).toBeGreaterThan(500);
    });

    test("a call still running at its deadline: 504, and the handler's own deadline (from the header) aborts it", async () => {
      const r = await echo({ text: `${mode}-slow`, delayMs: 3_000 }, { "x-sluice-timeout": "300ms" });
      expect(r.status).toBe(504);
      expect(r.reason).toBe("upstream_deadline_exceeded");
      const s = seenFor(`${mode}-slow`)!;
      const end = Date.now() + 3_000;
      while (!s.aborted && Date.now() < end) await sleep(20);
      expect(s.aborted).toBe(true);
    });

    test("an expired deadline: 504 without a frame reaching the backend", async () => {
      const before = server.stats().callsStarted;
      const r = await echo({ text: `${mode}-expired` }, { "x-sluice-timeout": "0s" });
      expect(r.status).toBe(504);
      expect(r.reason).toBe("upstream_deadline_exceeded");
      expect(server.stats().callsStarted).toBe(before);
      expect(seenFor(`${mode}-expired`)).toBeUndefined();
    });

    test("traceparent arrives as RPC_TRANSIT_traceparent: same trace id, new parent span id; request id and allow-listed headers travel too", async () => {
      const r = await echo({ text: `${mode}-trace` }, {
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
        tracestate: "vendor=abc",
        "x-request-id": `rid-${mode}`,
        "x-tenant-id": "t-7",
        "x-not-listed": "secret",
      });
      expect(r.status).toBe(200);
      const md = seenFor(`${mode}-trace`)!.metadata;
      console.log(`ttheader metadata/${mode}: ${JSON.stringify(md)}`);
      const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(md["traceparent"] ?? "");
      expect(tp).not.toBeNull();
      expect(tp![1]).toBe(TRACE_ID);
      expect(tp![2]).not.toBe(CALLER_SPAN);
      expect(tp![2]).not.toBe("0000000000000000");
      expect(tp![3]).toBe("01");
      expect(md["tracestate"]).toBe("vendor=abc");
      expect(md["x-request-id"]).toBe(`rid-${mode}`);
      expect(md["x-tenant-id"]).toBe("t-7");
      expect(md["x-not-listed"]).toBeUndefined();
      expect(r.body).toEqual({ text: `${mode}-trace` });
    });
  });
}
