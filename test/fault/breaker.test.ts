// Issue 5: a failing upstream. The circuit breaker opens within its window once enough calls failed,
// then fails fast (503 circuit_open naming the upstream, Retry-After, the backend no longer called), and
// after the cool-down a probe finds the backend recovered and the circuit closes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { adminUpstream, runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, sleepMs } from "../helpers/fault-load.ts";
import { startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let healthy = false;
let calls = 0;
let server: Awaited<ReturnType<typeof startGrpcJsServer>>;
let gw: Gateway;
beforeAll(async () => {
  const registry = registryFromDescriptorSets([await (await runtime()).readFile(DESCRIPTORS)]);
  server = await startGrpcJsServer(registry, {
    "demo.v1.EchoService": {
      Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        calls++;
        if (healthy) cb(null, { text: c.request.text });
        else cb(Object.assign(new Error("down"), { code: grpc.status.UNAVAILABLE, details: "backend down", metadata: new grpc.Metadata() }));
      },
    },
  });
  gw = await startFaultGateway({
    upstream: {
      name: "flaky",
      endpoints: [`127.0.0.1:${server.port}`],
      breaker: { threshold: 0.5, minSamples: 10, window: "2s", cooldown: "500ms", halfOpenProbes: 1 },
    },
  });
});
afterAll(async () => {
  await gw.stop();
  server.server.forceShutdown();
});

test("breaker opens within the window, fails fast naming the upstream, closes after recovery", async () => {
  const url = `${gw.url}/demo.v1.EchoService/Echo`;
  const t0 = Date.now();
  let first: Awaited<ReturnType<typeof call>> | undefined;
  let sent = 0;
  while (!first && sent < 50) {
    const r = await call(url, { text: "x" });
    sent++;
    if (r.reason === "circuit_open") first = r;
    else expect(r.status).toBe(503); // the backend's own UNAVAILABLE
  }
  const openedAfterMs = Date.now() - t0;
  const callsAtOpen = calls;
  expect(first).toBeDefined();
  expect(callsAtOpen).toBe(10); // exactly minSamples failures (100% > 50%) open it
  expect(openedAfterMs).toBeLessThan(2_000); // within the window
  const body = first!.body as { code: string; reason: string; upstream: string; message: string };
  expect(first!.status).toBe(503);
  expect(body).toMatchObject({ code: "UNAVAILABLE", reason: "circuit_open", upstream: "flaky" });
  expect(body.message).toContain("flaky");

  // Fails fast: nothing reaches the backend while open; Retry-After says when to come back.
  const res = await fetch(url, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  await res.text();
  for (let i = 0; i < 20; i++) expect((await call(url, { text: "y" })).reason).toBe("circuit_open");
  expect(calls).toBe(callsAtOpen);
  expect((await adminUpstream(gw, "flaky")).breaker?.state).toBe("open");

  // Recovery: after the cool-down one probe goes through, succeeds, and the circuit closes.
  healthy = true;
  await sleepMs(600);
  const probe = await call(url, { text: "probe" });
  expect(probe.status).toBe(200);
  expect((await adminUpstream(gw, "flaky")).breaker?.state).toBe("closed");
  for (let i = 0; i < 5; i++) expect((await call(url, { text: "z" })).status).toBe(200);
  console.log(`breaker: opened after ${sent - 1} failed calls in ${openedAfterMs} ms (backend saw ${callsAtOpen}); 21 calls failed fast with 0 backend calls; probe after cool-down -> ${probe.status}, circuit closed`);
}, 15_000);
