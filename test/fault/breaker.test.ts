// Issue 5: a failing upstream. The circuit breaker opens once enough calls in its window failed (exactly
// minSamples, all failing), then fails fast (503 circuit_open naming the upstream, Retry-After, the backend
// no longer called), and after the cool-down a probe finds the backend recovered and the circuit closes.
// No wall-clock assertions (the machine may be loaded): the window is long enough that every failure of
// the test falls inside it, the cool-down long enough that the fail-fast phase ends well before it, and
// the half-open state is awaited with a bounded poll. What is asserted are counts and state transitions.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import type { Gateway } from "../../src/gateway.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { adminUpstream, runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor } from "../helpers/fault-load.ts";
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
      breaker: { threshold: 0.5, minSamples: 10, window: "60s", cooldown: "5s", halfOpenProbes: 1 },
    },
  });
});
afterAll(async () => {
  await gw.stop();
  server.server.forceShutdown();
});

type Breaker = { state: string; opened: number; rejected: number };
const breaker = async () => (await adminUpstream(gw, "flaky")).breaker as unknown as Breaker;

test("breaker opens after minSamples failures in its window, fails fast naming the upstream, closes after recovery", async () => {
  const url = `${gw.url}/demo.v1.EchoService/Echo`;
  expect(await breaker()).toMatchObject({ state: "closed", opened: 0 });
  let first: Awaited<ReturnType<typeof call>> | undefined;
  let sent = 0;
  while (!first && sent < 50) {
    const r = await call(url, { text: "x" }, {}, 10_000);
    sent++;
    if (r.reason === "circuit_open") first = r;
    else expect(r.status).toBe(503); // the backend's own UNAVAILABLE
  }
  const callsAtOpen = calls;
  expect(first).toBeDefined();
  expect(callsAtOpen).toBe(10); // exactly minSamples failures (100% > 50%) open it
  expect(sent).toBe(11); // ... and the very next call is refused
  expect(await breaker()).toMatchObject({ state: "open", opened: 1 });
  const body = first!.body as { code: string; reason: string; upstream: string; message: string };
  expect(first!.status).toBe(503);
  expect(body).toMatchObject({ code: "UNAVAILABLE", reason: "circuit_open", upstream: "flaky" });
  expect(body.message).toContain("flaky");

  // Fails fast: nothing reaches the backend while open; Retry-After says when to come back.
  const res = await fetch(url, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  await res.text();
  for (let i = 0; i < 20; i++) expect((await call(url, { text: "y" }, {}, 10_000)).reason).toBe("circuit_open");
  expect(calls).toBe(callsAtOpen);
  const open = await breaker();
  expect(open).toMatchObject({ state: "open", opened: 1 });
  expect(open.rejected).toBeGreaterThanOrEqual(22);

  // Recovery: once the cool-down is over the breaker is half-open; one probe goes through, succeeds, and
  // the circuit closes (without having opened again).
  healthy = true;
  const half = await waitFor(async () => (await breaker()).state === "half_open", 30_000, 100);
  expect(half).toBe(true);
  expect(calls).toBe(callsAtOpen);
  const probe = await call(url, { text: "probe" }, {}, 10_000);
  expect(probe.status).toBe(200);
  expect(calls).toBe(callsAtOpen + 1);
  expect(await breaker()).toMatchObject({ state: "closed", opened: 1 });
  for (let i = 0; i < 5; i++) expect((await call(url, { text: "z" }, {}, 10_000)).status).toBe(200);
  console.log(`breaker: opened after ${sent - 1} failed calls (backend saw ${callsAtOpen}); ${open.rejected} calls failed fast with 0 backend calls; probe after cool-down -> ${probe.status}, circuit closed`);
}, 60_000);
