// Issue 3, through the whole gateway (HTTP in, TTHeader out) rather than the connection alone:
//  - metadata: a forwarded header goes out as RPC_TRANSIT_<key>, W3C traceparent as RPC_TRANSIT_traceparent
//    (same trace, the gateway's own span), and the call's deadline as the RPC timeout int key; the backend
//    (our TTHeader server, which maps them back) sees all three;
//  - businessErrorStatus is configurable: a biz-status reply answers with that HTTP status and a business
//    object, in both modes;
//  - an unknown method answers 501 in pool mode too (the server closes that pingpong connection after the
//    exception; the next call must still work).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { runtime } from "../helpers/fault-gateway.ts";
import { startGatedBackend, type GatedBackend } from "../helpers/gated-backend.ts";
import { DESCRIPTORS, TEST_DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const TP_IN = `00-${TRACE_ID}-b7ad6b7169203331-01`;

let gated: GatedBackend;
let demo: DemoBackend;
const gateways: Gateway[] = [];
beforeAll(async () => {
  gated = await startGatedBackend();
  gated.open(); // calls pass straight through; the backend only records what it received
  demo = await startDemoBackend({ runtime: await runtime(), descriptorPath: DESCRIPTORS, orderLatencyMs: 10 });
});
afterAll(async () => {
  for (const g of gateways) await g.stop();
  await gated.stop();
  demo.kill();
});

async function gateway(mode: "mux" | "pool", port: number, extra: Record<string, unknown> = {}, descriptors = DESCRIPTORS): Promise<Gateway> {
  const gw = await startGateway({
    runtime: await runtime(),
    logger: quietLogger(),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [descriptors],
      upstreams: [{ name: "tt", protocol: "ttheader", mode, endpoints: [`127.0.0.1:${port}`] }],
      services: [{ match: "*", upstream: "tt" }],
      ...extra,
    }),
  });
  gateways.push(gw);
  return gw;
}

for (const mode of ["mux", "pool"] as const) {
  describe(`TTHeader ${mode} through the gateway`, () => {
    test("forwarded header, traceparent and the remaining deadline reach the backend", async () => {
      const gw = await gateway(mode, gated.ttheaderPort, { headers: { forward: ["x-tenant"] } });
      const text = `md-${mode}`;
      const sentAt = Date.now();
      const r = await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text }, { traceparent: TP_IN, "x-tenant": "acme", "x-not-forwarded": "no", "x-sluice-timeout": "2s" });
      expect(r.status).toBe(200);
      const got = gated.seen.find((s) => s.text === text)!;
      expect(got).toBeDefined();
      expect(got.metadata["x-tenant"]).toBe("acme");
      expect(got.metadata["x-not-forwarded"]).toBeUndefined();
      const tp = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(got.metadata["traceparent"] ?? "");
      expect(tp?.[1]).toBe(TRACE_ID);
      expect(tp?.[2]).not.toBe("b7ad6b7169203331"); // the gateway's client span is the new parent
      // The RPC timeout key carried what was left of the 2 s: the backend's deadline lies within it.
      expect(got.deadline).toBeDefined();
      expect(got.deadline!).toBeGreaterThan(sentAt);
      expect(got.deadline!).toBeLessThanOrEqual(Date.now() + 2_000);
    });

    test("businessErrorStatus 409: a business error answers 409 with its business object", async () => {
      const gw = await gateway(mode, demo.ttheaderPort, { businessErrorStatus: 409 });
      const r = await postJson(`${gw.url}/v1/echo`, { text: "biz" });
      expect(r.status).toBe(409);
      expect(r.json).toMatchObject({ reason: "business_error", business: { status: 1001, message: "user not found" } });
      // A system error from the same backend keeps its own status.
      expect((await postJson(`${gw.url}/v1/echo`, { text: "fail:internal" })).status).toBe(500);
    });

    test("a method the backend does not serve -> 501; the next call works", async () => {
      const gw = await gateway(mode, demo.ttheaderPort, {}, TEST_DESCRIPTORS);
      for (let i = 0; i < 3; i++) {
        const r = await postJson(`${gw.url}/testdata.v1.MappingService/Roundtrip`, {});
        expect(r.status).toBe(501);
        expect(r.json.code).toBe("UNIMPLEMENTED");
        const ok = await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: `after${i}` });
        expect(ok.status).toBe(200);
        expect(ok.json.text).toBe(`after${i}`);
      }
    });
  });
}
