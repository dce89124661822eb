// Issue 7's shutdown sequence, the in-flight parts test/e2e/drain.test.ts and lifecycle.test.ts leave out:
// stop() lets a server stream that is mid-way finish (every message arrives), lets a call whose client
// already left (onClientDisconnect: continue) run to completion at the backend before it resolves, and
// then closes the upstream connections (the backend sees its connections go).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serveTTHeader, type TTHeaderServer } from "../../src/backend/index.ts";
import { echoHandlers } from "../../src/demo/echo-service.ts";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { sleepMs, waitFor } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let backend: DemoBackend;
let tt: TTHeaderServer;
const ttStats = { echoCompleted: 0, echoCancelled: 0 };
beforeAll(async () => {
  backend = await startBackend();
  const rt = await runtime();
  tt = await serveTTHeader({
    listenTcp: rt.listenTcp,
    hostname: "127.0.0.1",
    port: 0,
    service: { registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]), handlers: echoHandlers(ttStats) },
  });
});
afterAll(async () => {
  backend.kill();
  await tt.destroy();
});

describe("stop() and what is still in flight", () => {
  test("a server stream mid-way when stop() starts still delivers every message", async () => {
    const gw = await startFaultGateway({ upstream: { name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] } });
    const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "s", n: 5, delayMs: 200 }) });
    expect(res.status).toBe(200);
    const body = res.text();
    await sleepMs(300); // a message or two are out
    const stopped = gw.stop({ timeoutMs: 10_000 });
    expect(gw.inFlight).toBe(1);
    const text = await body;
    await stopped;
    // Not cut: a stop that closed the stream would have truncated it (or failed the read).
    expect(text.trim().split("\n").map((l) => JSON.parse(l).text)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    expect(gw.inFlight).toBe(0);
  }, 15_000);

  test("a call whose client left (continue) completes at the backend before stop() resolves; then connections close", async () => {
    const gw = await startFaultGateway({
      upstream: { name: "tt", protocol: "ttheader", mode: "mux", endpoints: [`127.0.0.1:${tt.port}`] },
      routes: [{ method: "demo.v1.EchoService/Echo", onClientDisconnect: "continue" }],
    });
    expect((await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: "{}" })).status).toBe(200);
    expect(tt.stats().connections).toBeGreaterThan(0);
    const before = ttStats.echoCompleted;
    const gaveUp = await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "left", delayMs: 800 }), signal: AbortSignal.timeout(100) }).then(
      () => false,
      () => true,
    );
    expect(gaveUp).toBe(true);
    expect(ttStats.echoCompleted).toBe(before); // still running at the backend
    await gw.stop({ timeoutMs: 10_000 });
    // stop() resolved only after the abandoned call had completed, and counted it.
    expect(ttStats.echoCompleted).toBe(before + 1);
    expect(ttStats.echoCancelled).toBe(0);
    expect(gw.invoker.stats.finishedAfterClientLeft).toBe(1);
    // Upstream connections are closed after the drain.
    expect(await waitFor(() => tt.stats().connections === 0, 3_000)).toBe(true);
  }, 15_000);
});
