// Issue 4: rolling restart of the backends (graceful stop: GOAWAY, in-flight calls finish; then a new
// process on the same port) under constant load: zero failed requests, even for a non-idempotent method
// (only never-sent calls may be retried).
import { afterAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { countAttemptErrors, startFaultGateway } from "../helpers/fault-gateway.ts";
import { startLoad, sleepMs, waitFor } from "../helpers/fault-load.ts";
import { killAllBackends, spawnBackend, type BackendProcess } from "../helpers/fault-process.ts";

let gw: Gateway | undefined;
afterAll(async () => {
  await gw?.stop();
  killAllBackends();
});

test("rolling restart of 3 backend processes under load: zero failed requests", async () => {
  const backends: BackendProcess[] = await Promise.all([spawnBackend(), spawnBackend(), spawnBackend()]);
  gw = await startFaultGateway({
    upstream: {
      name: "demo",
      endpoints: backends.map((b) => `127.0.0.1:${b.port}`),
      outlier: { baseEjection: "500ms" },
      pool: { minConnections: 1 },
    },
  });
  const attemptErrors = countAttemptErrors(gw, "demo");
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `r${i}`, delayMs: 20 }), concurrency: 16 });
  await sleepMs(300);
  const restarted: BackendProcess[] = [];
  const oldStats = [];
  for (const b of backends) {
    const before = load.snapshot().ok;
    oldStats.push(await b.stop()); // SIGTERM: GOAWAY, in-flight calls finish, process exits
    const fresh = await spawnBackend({ port: b.port });
    restarted.push(fresh);
    // The new process takes traffic again before the next one goes down.
    expect(await waitFor(async () => (await fresh.stats()).echoCompleted > 0, 5_000, 50)).toBe(true);
    expect(load.snapshot().ok).toBeGreaterThan(before);
  }
  await sleepMs(300);
  const r = await load.stop();
  const perNew = await Promise.all(restarted.map(async (b) => (await b.stats()).echoCompleted));
  console.log(`rolling restart: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; old backends completed ${oldStats.map((s) => `${s?.echoCompleted}/${s?.grpc.cancelled} cancelled`).join(", ")}; new backends served ${perNew.join(", ")}; failed attempts absorbed by retries ${JSON.stringify(attemptErrors)}`);
  expect(r.failures).toEqual({});
  expect(r.failed).toBe(0);
  expect(r.ok).toBeGreaterThan(200);
  for (const s of oldStats) {
    expect(s).toBeDefined();
    expect(s!.echoCompleted).toBeGreaterThan(0);
    expect(s!.grpc.cancelled).toBe(0); // graceful: nothing in flight was cut
  }
  for (const n of perNew) expect(n).toBeGreaterThan(0);
  await Promise.all(restarted.map((b) => b.stop()));
}, 40_000);
