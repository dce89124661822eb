// Issue 4: "when a new address appears, open N connections per endpoint before traffic". An address that
// DNS starts returning sits behind a relay whose connections take 250 ms each to reach the backend, one at
// a time; with warmup 2 its first call may arrive only once both connections have reached it. (Before,
// the address joined the balancer at once and its first call rode the first warm-up connection, the
// second one not even dialled yet.)
import { afterAll, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { LookupAddress } from "../../src/discovery/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { serveGrpc, type GrpcServer } from "../../src/backend/index.ts";
import { echoHandlers } from "../../src/demo/echo-service.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { startLoad, waitFor } from "../helpers/fault-load.ts";
import { startRelay, type Relay } from "../helpers/fault-relay.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("a new DNS address with warmup 2 gets no call before its 2 connections reached the backend", async () => {
  const rt = await runtime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  // The new backend records, at each call's arrival, how many connections had reached it.
  let relay: Relay | undefined;
  const seen: number[] = [];
  const base = echoHandlers({ echoCompleted: 0, echoCancelled: 0 });
  const echo = base["demo.v1.EchoService/Echo"] as (req: any, ctx: any) => unknown;
  const fresh: GrpcServer = await serveGrpc({
    serveH2: rt.serveH2, hostname: "127.0.0.1", port: 0,
    service: {
      registry,
      handlers: {
        ...base,
        "demo.v1.EchoService/Echo": (req: any, ctx: any) => {
          seen.push(relay!.stats.established);
          return echo(req, ctx);
        },
      },
    },
  });
  cleanup.push(() => fresh.destroy());
  // The new address: 127.0.0.2 on the relay's port, relayed slowly to the new backend.
  relay = await startRelay({ host: "127.0.0.2", targets: [{ host: "127.0.0.1", port: fresh.port }], establishMs: 250, serial: true });
  cleanup.push(() => relay!.close());
  // The old address: the demo backend on 127.0.0.1, same port.
  const old: DemoBackend = await startBackend({ host: "127.0.0.1", port: relay.port });
  cleanup.push(() => old.kill());

  let answer = ["127.0.0.1"];
  const lookup = async (): Promise<LookupAddress[]> => answer.map((address) => ({ address, family: 4 as const }));
  const gw: Gateway = await startFaultGateway({
    upstream: { name: "demo", dns: { host: "backends.test", port: relay.port, refreshInterval: "100ms", minRefreshInterval: "50ms" }, warmup: 2, connectTimeout: "2s", outlier: false, breaker: false },
    lookup,
  });
  cleanup.push(() => gw.stop());
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `w${i}` }), concurrency: 4 });
  expect(await waitFor(() => old.stats.echoCompleted > 5, 3_000)).toBe(true);
  answer = ["127.0.0.1", "127.0.0.2"];
  expect(await waitFor(() => seen.length >= 5, 5_000)).toBe(true);
  const r = await load.stop();
  console.log(`warm-up of a new address: connections at the backend when its first calls arrived ${JSON.stringify(seen.slice(0, 5))}; load ${r.ok} ok, ${r.failed} failed`);
  expect(seen[0]).toBeGreaterThanOrEqual(2);
  expect(r.failed).toBe(0);
}, 20_000);
