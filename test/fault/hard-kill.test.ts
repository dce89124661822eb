// Issue 4: one of three backend processes killed with SIGKILL under load. The kernel resets its sockets:
// calls in flight on it are lost (they were sent: a non-idempotent call can't be retried, an idempotent one
// with a retry policy is); calls that would go to it afterwards fail to connect (never sent) and are retried
// on another endpoint; outlier ejection takes it out of rotation. The failures are counted and bounded by
// what was in flight on the dead backend.
import { afterAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, countAttemptErrors, portFor, PROTOCOLS, startFaultGateway, type ProtocolName, type RouteInput } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { killAllBackends, spawnBackend } from "../helpers/fault-process.ts";

const CONCURRENCY = 24;
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
  killAllBackends();
});

async function killUnderLoad(protocol: ProtocolName, routes: RouteInput[], retryBudget?: { maxTokens: number; tokenRatio: number }) {
  const backends = await Promise.all([spawnBackend(), spawnBackend(), spawnBackend()]);
  const gw: Gateway = await startFaultGateway({
    upstream: {
      name: "demo", ...PROTOCOLS[protocol], endpoints: backends.map((b) => `127.0.0.1:${portFor(b, protocol)}`),
      pool: { minConnections: 1 }, outlier: { baseEjection: "10s" }, retryBudget,
    },
    routes,
  });
  cleanup.push(async () => {
    await gw.stop();
    await Promise.all(backends.map((b) => b.kill()));
  });
  const attemptErrors = countAttemptErrors(gw, "demo");
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `k${i}`, delayMs: 30 }), concurrency: CONCURRENCY });
  await sleepMs(400);
  const victim = backends[0]!;
  const killedAt = Date.now();
  await victim.kill();
  const victimKey = `127.0.0.1:${portFor(victim, protocol)}`;
  const ejected = async () => (await adminUpstream(gw, "demo")).balancer.endpoints.find((e) => e.key === victimKey)!.ejected;
  // Ejection needs 5 connect failures in a row; under a loaded machine that can take more than a moment.
  await waitFor(ejected, 5_000, 20);
  const ejectedAfterMs = Date.now() - killedAt;
  await sleepMs(300);
  const r = await load.stop();
  const view = await adminUpstream(gw, "demo");
  const dead = view.balancer.endpoints.find((e) => e.key === victimKey)!;
  const lastFailureAfterKill = Math.max(0, ...r.outcomes.filter((o) => o.status !== 200).map((o) => o.at + o.ms - killedAt));
  return { r, attemptErrors, dead, lastFailureAfterKill, ejectedAfterMs, budget: view.retryBudget };
}

const retryRoute: RouteInput = { method: "demo.v1.EchoService/Echo", idempotent: true, retry: { maxAttempts: 3, initialBackoff: "10ms" } };

for (const protocol of Object.keys(PROTOCOLS) as ProtocolName[]) {
  describe(`${protocol}: SIGKILL of one of three backend processes under load`, () => {
    test("non-idempotent calls: only the calls in flight on the dead backend fail; the rest are retried or rerouted", async () => {
      const { r, attemptErrors, dead, lastFailureAfterKill, ejectedAfterMs } = await killUnderLoad(protocol, []);
      console.log(
        `hard kill/${protocol}/non-idempotent: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)} (last failure ${Math.round(lastFailureAfterKill)} ms after the kill); ` +
          `failed attempts ${JSON.stringify(attemptErrors)}; dead endpoint ejected=${dead.ejected} ${ejectedAfterMs} ms after the kill`,
      );
      expect(r.failed).toBeLessThanOrEqual(CONCURRENCY); // bounded by the calls in flight at the kill
      // Sent and lost (503, never 499: the upstream went away, nobody cancelled); never a never-sent one.
      for (const k of Object.keys(r.failures)) expect(k).toBe("503 upstream_connection_closed");
      expect(attemptErrors.upstream_connect_failed ?? 0).toBeGreaterThan(0); // never-sent attempts happened and were absorbed
      expect(dead.ejected).toBe(true);
      expect(r.ok).toBeGreaterThan(200);
    }, 20_000);

    test("idempotent calls with retries and a retry budget of 100 tokens: zero failures", async () => {
      const { r, attemptErrors, dead } = await killUnderLoad(protocol, [retryRoute], { maxTokens: 100, tokenRatio: 0.1 });
      console.log(`hard kill/${protocol}/idempotent+retry, budget 100: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; failed attempts retried ${JSON.stringify(attemptErrors)}; ejected=${dead.ejected}`);
      for (const o of r.outcomes) if (o.status !== 200) console.log(`hard kill/${protocol}: failed call ${JSON.stringify(o)}`); // diagnostics if it ever happens
      expect(r.failed).toBe(0);
      expect(dead.ejected).toBe(true);
      expect(Object.values(attemptErrors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // attempts failed and were absorbed
    }, 20_000);
  });
}

describe("grpc: SIGKILL with the default retry budget", () => {
  test("idempotent calls with the default budget (10 tokens): the budget stops retrying after ~4 losses at once", async () => {
    const { r, attemptErrors, budget } = await killUnderLoad("grpc", [retryRoute]);
    console.log(`hard kill/grpc/idempotent+retry, default budget: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; failed attempts ${JSON.stringify(attemptErrors)}; budget ${JSON.stringify(budget)}`);
    expect(r.failed).toBeLessThanOrEqual(CONCURRENCY);
    // Every client-visible failure is one the budget refused to retry (A6: retries only while tokens > max/2).
    if (r.failed > 0) expect(budget.throttled).toBeGreaterThanOrEqual(r.failed);
  }, 20_000);
});
