// Issue 5: one slow endpoint (400 ms) among three (5 ms). Round robin sends a third of the calls to the
// slow one, so without hedging the p99 is the slow delay; with a hedge after 40 ms to another endpoint the
// p99 drops to about hedge delay + fast latency. The numbers are printed; the assertion is the clear gap.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway, type RouteInput } from "../helpers/fault-gateway.ts";
import { burst, percentile } from "../helpers/fault-load.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const SLOW_MS = 400;
const FAST_MS = 5;
const HEDGE_MS = 40;
const servers: Awaited<ReturnType<typeof startGrpcJsServer>>[] = [];
const served: number[] = [0, 0, 0];
const cancelled: number[] = [0, 0, 0];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const registry = registryFromDescriptorSets([await (await runtime()).readFile(DESCRIPTORS)]);
  for (const [i, delay] of [SLOW_MS, FAST_MS, FAST_MS].entries()) {
    servers.push(
      await startGrpcJsServer(registry, {
        "demo.v1.EchoService": {
          Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
            let done = false;
            const t = setTimeout(() => {
              done = true;
              served[i]!++;
              cb(null, { text: c.request.text });
            }, delay);
            c.on("cancelled", () => {
              if (done) return; // grpc-js also emits it after a normal finish
              clearTimeout(t);
              cancelled[i]!++;
            });
          },
        },
      }),
    );
  }
});
afterAll(async () => {
  for (const c of cleanup) await c();
  for (const s of servers) s.server.forceShutdown();
});

async function measure(route: RouteInput) {
  const gw: Gateway = await startFaultGateway({ upstream: { name: "mixed", endpoints: servers.map((s) => `127.0.0.1:${s.port}`), outlier: false, breaker: false }, routes: [route] });
  cleanup.push(() => gw.stop());
  served.fill(0);
  cancelled.fill(0);
  const r = await burst({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `h${i}` }), n: 300, concurrency: 15 });
  const ms = r.outcomes.map((o) => o.ms);
  return { r, p50: percentile(ms, 50), p90: percentile(ms, 90), p99: percentile(ms, 99), served: [...served], cancelled: [...cancelled] };
}

describe(`hedging with one slow endpoint (${SLOW_MS} ms) among three`, () => {
  test(`a hedge after ${HEDGE_MS} ms cuts the p99 well below the slow endpoint's delay`, async () => {
    const plain = await measure({ method: "demo.v1.EchoService/Echo", idempotent: true });
    const hedged = await measure({ method: "demo.v1.EchoService/Echo", idempotent: true, hedge: { delay: HEDGE_MS, maxHedges: 1 } });
    const fmt = (m: typeof plain) => `p50 ${Math.round(m.p50)} / p90 ${Math.round(m.p90)} / p99 ${Math.round(m.p99)} ms; served slow/fast/fast ${m.served.join("/")}; cancelled ${m.cancelled.join("/")}`;
    console.log(`hedge: 300 calls, 15 at a time\n  no hedging:     ${fmt(plain)}\n  hedge @${HEDGE_MS} ms:  ${fmt(hedged)}`);
    expect(plain.r.failed).toBe(0);
    expect(hedged.r.failed).toBe(0);
    expect(plain.p99).toBeGreaterThanOrEqual(SLOW_MS); // a third of the calls wait for the slow endpoint
    expect(hedged.p99).toBeLessThan(SLOW_MS / 2);
    // The slow endpoint's attempts lost the race and were cancelled upstream rather than left running.
    expect(plain.cancelled).toEqual([0, 0, 0]);
    expect(hedged.cancelled[0]).toBeGreaterThan(0);
  }, 30_000);
});
