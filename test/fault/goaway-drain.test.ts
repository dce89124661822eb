// Issue 4: GOAWAY drain. Streams in flight when the server says GOAWAY finish normally; new calls go to a
// new session. Two servers: grpc-js with grpc.max_connection_age_ms (a foreign implementation that sends
// GOAWAY every 300 ms while it keeps listening), and our own server's graceful close() with a new server
// taking over the port.
import { afterAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { adminUpstream, countAttemptErrors, runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { serviceDefinition } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe("GOAWAY drain", () => {
  test("grpc-js server with max connection age 300 ms under load: zero failures, calls span GOAWAYs, new sessions", async () => {
    const rt = await runtime();
    const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
    const server = new grpc.Server({ "grpc.max_connection_age_ms": 300, "grpc.max_connection_age_grace_ms": 5_000 });
    const peers = new Set<string>();
    let completed = 0;
    server.addService(serviceDefinition(registry.getService("demo.v1.EchoService")!), {
      Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        peers.add(c.getPeer());
        setTimeout(() => {
          completed++;
          cb(null, { text: c.request.text });
        }, c.request.delayMs);
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    cleanup.push(() => server.forceShutdown());
    const gw: Gateway = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${port}`] } });
    cleanup.push(() => gw.stop());
    const attemptErrors = countAttemptErrors(gw, "demo");
    // Calls of 150 ms, so many are in flight whenever a GOAWAY arrives.
    const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `g${i}`, delayMs: 150 }), concurrency: 8 });
    await sleepMs(1_500);
    const r = await load.stop();
    const pool = (await adminUpstream(gw, "demo")).endpoints[0]!;
    console.log(`goaway/grpc-js max age: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; sessions seen by the server ${peers.size}, opened by the gateway ${pool.opened}; failed attempts ${JSON.stringify(attemptErrors)}`);
    expect(r.failed).toBe(0);
    expect(r.ok).toBe(completed);
    expect(peers.size).toBeGreaterThanOrEqual(3); // ~5 connection ages in 1.5 s: new sessions each time
    expect(pool.opened).toBe(peers.size);
    // One new session per GOAWAY, not one per waiting call (the dial storm fixed in src/upstream/pool.ts).
    expect(pool.opened).toBeLessThanOrEqual(7);
  }, 15_000);

  test("our server's graceful close: the call in flight finishes on the old session, the next call uses a new one", async () => {
    const first: DemoBackend = await startBackend();
    const port = first.grpcPort;
    const gw: Gateway = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${port}`], pool: { minConnections: 1 } } });
    cleanup.push(() => gw.stop());
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    const inFlight = call(url, { text: "slow", delayMs: 600 });
    await waitFor(() => first.stats.grpc.calls === 1, 1_000, 5);
    const stopped = first.stop(); // GOAWAY; resolves once the in-flight call is done
    // The gateway sees the GOAWAY: the old connection drains with its call still running.
    const draining = await waitFor(async () => {
      const p = (await adminUpstream(gw, "demo")).endpoints[0]!;
      return p.connections.draining === 1 ? p : undefined;
    }, 1_000, 5);
    expect(draining?.details.find((d) => d.state === "draining")?.active).toBe(1);
    const second: DemoBackend = await startBackend({ port });
    cleanup.push(() => second.kill());
    const fresh = await call(url, { text: "new" });
    expect(fresh.status).toBe(200);
    expect(second.stats.echoCompleted).toBe(1); // the new call went to a new session, on the new server
    const old = await inFlight;
    await stopped;
    console.log(`goaway/our server: in-flight call -> ${old.status} after ${Math.round(old.ms)} ms; new call -> ${fresh.status} on the new server; old server completed ${first.stats.echoCompleted}, cancelled ${first.stats.grpc.cancelled}`);
    expect(old.status).toBe(200);
    expect((old.body as { text: string }).text).toBe("slow");
    expect(first.stats.echoCompleted).toBe(1);
    expect(first.stats.grpc.cancelled).toBe(0);
    const after = (await adminUpstream(gw, "demo")).endpoints[0]!;
    expect(after.connections.draining).toBe(0);
    expect(after.opened).toBeGreaterThanOrEqual(2); // replacements (the first may find the port closed between servers)
  }, 15_000);
});
