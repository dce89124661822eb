// Issue 6 ("upstream message size limits with a clear 502-class error naming the limit") over TTHeader:
// a reply larger than upstreams[].maxMessageBytes fails its own call with 502 message_too_large, and only
// that call. On a mux connection the calls multiplexed beside it complete normally and the connection
// stays open (before the fix the decoder failed the whole connection: every call in flight got a 502);
// on a pingpong connection the next call reuses it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import { adminUpstream, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, sleepMs } from "../helpers/fault-load.ts";

const MiB = 1024 * 1024;
let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

for (const mode of ["mux", "pool"] as const) {
  describe(`TTHeader ${mode}: a reply over maxMessageBytes (1 MiB)`, () => {
    test("fails its own call with 502 message_too_large naming the limit; the others complete; the connection is kept", async () => {
      const gw = await startFaultGateway({
        upstream: { name: "tt", protocol: "ttheader", mode, muxConnections: 1, pool: { maxConnections: 20 }, endpoints: [`127.0.0.1:${backend.ttheaderPort}`], maxMessageBytes: "1MiB", breaker: false },
      });
      cleanup.push(() => gw.stop({ timeoutMs: 2000 }));
      const url = `${gw.url}/demo.v1.EchoService/Echo`;
      expect((await call(url, { text: "warm" })).status).toBe(200);
      const openedBefore = (await adminUpstream(gw, "tt")).endpoints[0]!.opened;
      const others = Array.from({ length: 10 }, (_, i) => call(url, { text: `o${i}`, delayMs: 400 }));
      await sleepMs(100); // the others are in flight
      const big = await call(url, { text: "big", size: 2 * MiB });
      const results = await Promise.all(others);
      const body = big.body as { code: string; reason: string; message: string; endpoint?: string };
      console.log(`oversized/${mode}: big -> ${big.status} ${JSON.stringify(body)}; others ${results.map((r) => r.status).join(",")}`);
      expect(big.status).toBe(502);
      expect(body.reason).toBe("message_too_large");
      expect(body.code).toBe("RESOURCE_EXHAUSTED");
      expect(body.message).toContain("maxMessageBytes");
      expect(body.endpoint).toBe(`127.0.0.1:${backend.ttheaderPort}`);
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(results.map((r) => (r.body as { text: string }).text)).toEqual(Array.from({ length: 10 }, (_, i) => `o${i}`));
      // Still usable right after, and (mux) on the same connection.
      const after = await call(url, { text: "after", size: 1000 });
      expect(after.status).toBe(200);
      const pool = (await adminUpstream(gw, "tt")).endpoints[0]!;
      if (mode === "mux") expect(pool.opened).toBe(openedBefore);
      expect(pool.connections.ready).toBeGreaterThan(0);
    }, 20_000);
  });
}
