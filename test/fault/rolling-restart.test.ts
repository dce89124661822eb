// Issue 4: rolling restart of the backends (graceful stop: gRPC GOAWAY / TTHeader crrst, in-flight calls
// finish; then a new process on the same ports) under constant load: zero failed requests, even for a
// non-idempotent method (only never-sent calls may be retried). Over gRPC, TTHeader mux and pingpong.
//
// Known issue, TTHeader pingpong only: on stop our TTHeader server half-closes a used pingpong connection
// that is idle at once (src/backend/ttheader/server-connection.ts #maybeFinishStop), and a request that
// crosses that FIN is read, started, then cut when the client closes: lost (not provably unsent, so not
// retried). Giving pingpong connections the same stop grace as mux ones made it 0 in every run tried;
// until the server does, that variant only checks the losses are bounded and of that one kind.
const KNOWN_PINGPONG_STOP_RACE = false;
import { afterAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { countAttemptErrors, portFor, PROTOCOLS, startFaultGateway, type ProtocolName } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { killAllBackends, spawnBackend, type BackendProcess, type BackendStats } from "../helpers/fault-process.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
  killAllBackends();
});

describe("rolling restart of 3 backend processes under load", () => {
  for (const protocol of Object.keys(PROTOCOLS) as ProtocolName[]) {
    const strict = !(protocol === "ttheader-pool" && KNOWN_PINGPONG_STOP_RACE);
    test(`${protocol}: ${strict ? "zero failed requests" : "losses bounded (known pingpong stop race, see top)"}`, async () => {
      const backends: BackendProcess[] = await Promise.all([spawnBackend(), spawnBackend(), spawnBackend()]);
      const gw: Gateway = await startFaultGateway({
        upstream: {
          name: "demo",
          ...PROTOCOLS[protocol],
          endpoints: backends.map((b) => `127.0.0.1:${portFor(b, protocol)}`),
          outlier: { baseEjection: "500ms" },
          pool: { minConnections: 1 },
        },
      });
      const restarted: BackendProcess[] = [];
      cleanup.push(async () => {
        await gw.stop();
        await Promise.all([...backends, ...restarted].map((b) => b.kill()));
      });
      const attemptErrors = countAttemptErrors(gw, "demo");
      const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `r${i}`, delayMs: 20 }), concurrency: 16 });
      await sleepMs(300);
      const oldStats: (BackendStats | undefined)[] = [];
      for (const b of backends) {
        const before = load.snapshot().ok;
        oldStats.push(await b.stop()); // SIGTERM: GOAWAY / crrst, in-flight calls finish, process exits
        const fresh = await spawnBackend({ port: b.port, ttheaderPort: b.ttheaderPort });
        restarted.push(fresh);
        // The new process takes traffic again before the next one goes down.
        expect(await waitFor(async () => (await fresh.stats()).echoCompleted > 0, 5_000, 50)).toBe(true);
        expect(load.snapshot().ok).toBeGreaterThan(before);
      }
      await sleepMs(300);
      const r = await load.stop();
      const perNew = await Promise.all(restarted.map(async (b) => (await b.stats()).echoCompleted));
      console.log(
        `rolling restart/${protocol}: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; old backends completed ` +
          `${oldStats.map((s) => `${s?.echoCompleted} (${s?.echoCancelled} cancelled)`).join(", ")}; new backends served ${perNew.join(", ")}; ` +
          `failed attempts absorbed by retries ${JSON.stringify(attemptErrors)}`,
      );
      if (strict) {
        expect(r.failures).toEqual({});
        expect(r.failed).toBe(0);
      } else {
        for (const k of Object.keys(r.failures)) expect(k).toBe("503 upstream_connection_closed");
        expect(r.failed).toBeLessThanOrEqual(16); // at most the calls in flight
      }
      expect(r.ok).toBeGreaterThan(200);
      for (const s of oldStats) {
        expect(s).toBeDefined();
        expect(s!.echoCompleted).toBeGreaterThan(0);
        if (strict) expect(s!.echoCancelled).toBe(0); // graceful: nothing in flight was cut
        expect(s!.grpc.cancelled).toBe(0);
      }
      for (const n of perNew) expect(n).toBeGreaterThan(0);
    }, 30_000);
  }
});
