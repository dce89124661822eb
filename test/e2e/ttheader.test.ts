// curl -> Sluice -> our TTHeader demo backend, in mux and pool (pingpong) modes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { getJson, postJson, startDemoStack, TEST_DESCRIPTORS, type Stack } from "../helpers/stack.ts";

for (const protocol of ["ttheader-mux", "ttheader-pool"] as const) {
  describe(`TTHeader ${protocol}`, () => {
    let s: Stack;
    beforeAll(async () => {
      s = await startDemoStack({ protocol });
    });
    afterAll(async () => {
      await s.stop();
    });

    test("unary success, int64 and bytes intact", async () => {
      const r = await postJson(`${s.url}/v1/echo`, { text: "tt", n: "9007199254740993", blob: "AQID" });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ text: "tt", n: "9007199254740993", blob: "AQID" });
    });

    test("annotated GET with a 200 KiB reply", async () => {
      const r = await getJson(`${s.url}/v1/symbols/ETHUSDT/klines?limit=1000`);
      expect(r.status).toBe(200);
      expect(r.json.klines.length).toBe(1000);
    });

    test("handler exception -> 500 INTERNAL", async () => {
      const r = await postJson(`${s.url}/v1/echo`, { text: "fail:internal" });
      expect(r.status).toBe(500);
      expect(r.json.code).toBe("INTERNAL");
    });

    test("backend NOT_FOUND over TTHeader is an exception; the message survives", async () => {
      const r = await getJson(`${s.url}/v1/orders/nope`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.json.message).toContain("order nope not found");
    });

    test("business error -> 422 with a business object, apart from system errors", async () => {
      const r = await postJson(`${s.url}/v1/echo`, { text: "bizextra" });
      expect(r.status).toBe(422);
      expect(r.json.reason).toBe("business_error");
      expect(r.json.business).toEqual({ status: 1002, message: "quota exceeded", extra: { retry_after: "5" } });
    });

    test("the upstream is the TTHeader one", async () => {
      const admin = await getJson(`${s.url}/admin/upstreams`);
      expect(admin.json.upstreams[0].protocol).toBe(protocol);
      expect(admin.json.upstreams[0].endpoints[0].key).toBe(`127.0.0.1:${s.backend.ttheaderPort}`);
    });

    test("many concurrent calls each get their own reply", async () => {
      const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => postJson(`${s.url}/v1/echo`, { text: `c${i}`, n: i })));
      expect(replies.every((r, i) => r.status === 200 && r.json.text === `c${i}` && (i === 0 ? r.json.n === undefined : r.json.n === String(i)))).toBe(true);
    });
  });
}

describe("TTHeader failures", () => {
  let s: Stack;
  let gw: Gateway;
  beforeAll(async () => {
    s = await startDemoStack({ protocol: "ttheader-mux" });
    gw = await startGateway({
      runtime: s.rt,
      config: parseConfig({
        listen: { host: "127.0.0.1", port: 0 },
        descriptors: [TEST_DESCRIPTORS],
        upstreams: [{ name: "tt", protocol: "ttheader", mode: "mux", endpoints: [`127.0.0.1:${s.backend.ttheaderPort}`], maxMessageBytes: "64KiB" }],
        services: [{ match: "*", upstream: "tt" }],
      }),
    });
  });
  afterAll(async () => {
    await gw.stop();
    await s.stop();
  });

  test("a method the backend does not serve -> 501 UNIMPLEMENTED", async () => {
    const r = await postJson(`${gw.url}/testdata.v1.MappingService/Roundtrip`, {});
    expect(r.status).toBe(501);
    expect(r.json.code).toBe("UNIMPLEMENTED");
  });

  test("a reply frame over the limit -> 502 naming the problem; the next call still works", async () => {
    const r = await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { size: 200_000 });
    expect(r.status).toBe(502);
    expect(r.json.message.toLowerCase()).toContain("frame");
    const ok = await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "after" });
    expect(ok.status).toBe(200);
    expect(ok.json.text).toBe("after");
  });
});

describe("TTHeader server graceful stop under load", () => {
  for (const protocol of ["ttheader-mux", "ttheader-pool"] as const) {
    test(`${protocol}: every call succeeds or fails with a retryable error; none hangs`, async () => {
      const s = await startDemoStack({ protocol });
      try {
        // A steady stream of calls (one per ms); the backend stops gracefully in the middle of it.
        const calls: Promise<{ status: number; json: any }>[] = [];
        for (let i = 0; i < 200; i++) {
          calls.push(postJson(`${s.url}/v1/echo`, { text: `g${i}`, delay_ms: 20 }, { "x-sluice-timeout": "3s" }));
          if (i === 100) void s.backend.stop();
          await new Promise((r) => setTimeout(r, 1));
        }
        const results = await Promise.all(calls);
        const ok = results.filter((r) => r.status === 200).length;
        const retryable = results.filter((r) => r.status === 503 && r.json.code === "UNAVAILABLE").length;
        expect(ok + retryable).toBe(200);
        expect(ok).toBeGreaterThan(0);
      } finally {
        await s.stop();
      }
    }, 15_000);
  }
});
