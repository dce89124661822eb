// Issues 2 and 4: the gRPC pool respects the server's HTTP/2 MAX_CONCURRENT_STREAMS. A grpc-js server (not
// ours) that allows 2 streams per connection gets 6 concurrent calls: the gateway opens more sessions
// instead of queueing streams on one (or having them refused), and no session ever carries more than 2.
// Calls are held by the server until the test releases them, so concurrency is exact.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor } from "../helpers/fault-load.ts";
import { serviceDefinition } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const MAX_STREAMS = 2;
let server: grpc.Server;
let port = 0;
let gw: Gateway | undefined;
let release: () => void = () => {};
const gate = new Promise<void>((r) => (release = r));
/** Calls held now, per client connection (grpc-js peer = the gateway's local ip:port). */
const heldByPeer = new Map<string, number>();
let peakPerPeer = 0;

beforeAll(async () => {
  const rt = await runtime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  server = new grpc.Server({ "grpc.max_concurrent_streams": MAX_STREAMS });
  server.addService(serviceDefinition(registry.getService("demo.v1.EchoService")!), {
    Echo: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      const peer = call.getPeer();
      const n = (heldByPeer.get(peer) ?? 0) + 1;
      heldByPeer.set(peer, n);
      peakPerPeer = Math.max(peakPerPeer, n);
      void gate.then(() => {
        heldByPeer.set(peer, heldByPeer.get(peer)! - 1);
        cb(null, { text: call.request.text, n: call.request.n });
      });
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
});
afterAll(async () => {
  release();
  await gw?.stop();
  server.forceShutdown();
});

test(`server MAX_CONCURRENT_STREAMS ${MAX_STREAMS}: 6 concurrent calls run on 3 sessions of at most ${MAX_STREAMS} streams, all succeed`, async () => {
  gw = await startFaultGateway({
    // The pool's own per-connection cap (1000) is far above the server's: only the server's setting limits.
    upstream: { name: "demo", endpoints: [`127.0.0.1:${port}`], breaker: false, pool: { minConnections: 1, maxConnections: 8, queueTimeout: "20s" } },
  });
  const url = `${gw.url}/demo.v1.EchoService/Echo`;
  const calls = Array.from({ length: 6 }, (_, i) => call(url, { text: `s${i}` }, {}, 25_000));
  const held = () => [...heldByPeer.values()].reduce((a, b) => a + b, 0);
  // All six reach the server at once: only possible on three or more sessions.
  expect(await waitFor(() => held() === 6, 10_000)).toBe(true);
  const busyPeers = [...heldByPeer.values()].filter((n) => n > 0).length;
  const pool = (await adminUpstream(gw, "demo")).endpoints[0]!;
  console.log(`max streams: held per session ${JSON.stringify([...heldByPeer.values()])}; pool ${JSON.stringify(pool.connections)}, capacities ${JSON.stringify(pool.details.map((d) => (d as { capacity?: number }).capacity))}`);
  expect(busyPeers).toBeGreaterThanOrEqual(3);
  expect(peakPerPeer).toBeLessThanOrEqual(MAX_STREAMS);
  // The sessions learnt the server's limit from its SETTINGS.
  for (const d of pool.details) expect((d as { capacity?: number }).capacity).toBe(MAX_STREAMS);
  release();
  const results = await Promise.all(calls);
  expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(results.map((r) => (r.body as { text: string }).text)).toEqual(["s0", "s1", "s2", "s3", "s4", "s5"]);
  expect(peakPerPeer).toBeLessThanOrEqual(MAX_STREAMS);
}, 30_000);
