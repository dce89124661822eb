// Issue 4: a backend process killed with SIGKILL under load. The kernel resets its sockets: calls in
// flight on it are lost (they were sent: a non-idempotent call can't be retried, an idempotent one with
// a retry policy is); calls that would go to it afterwards fail to connect (never sent) and are retried
// transparently on another endpoint (gRFC A6: once per call, outside the retry budget); outlier
// ejection takes it out of rotation. Failed attempts are split into never-sent and sent, and reported.
import { afterAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, portFor, PROTOCOLS, startFaultGateway, type ProtocolName, type RouteInput } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad, waitFor } from "../helpers/fault-load.ts";
import { killAllBackends, spawnBackend } from "../helpers/fault-process.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
  killAllBackends();
});

/** Failed attempts (retried or not) by whether they ever reached the wire, and by reason. */
function countAttempts(gw: Gateway) {
  const c = { neverSent: 0, sent: 0, reasons: {} as Record<string, number> };
  gw.groups.get("demo")!.onOutcome.on((o) => {
    if (!o.error) return;
    if (o.error.neverSent) c.neverSent++;
    else c.sent++;
    c.reasons[o.error.reason] = (c.reasons[o.error.reason] ?? 0) + 1;
  });
  return c;
}

interface Scenario {
  readonly protocol: ProtocolName;
  readonly routes: RouteInput[];
  readonly retryBudget?: { maxTokens: number; tokenRatio: number };
  readonly backends: number;
  readonly concurrency: number;
  readonly delayMs: number;
  /** Kill only once the victim's pool has at least this many calls in flight. */
  readonly minInFlightAtKill?: number;
  /** false: no outlier ejection, the dead endpoint stays in rotation (every pick of it is a never-sent failure). */
  readonly outlier?: false;
}

async function killUnderLoad(s: Scenario) {
  const backends = await Promise.all(Array.from({ length: s.backends }, () => spawnBackend()));
  const gw: Gateway = await startFaultGateway({
    upstream: {
      name: "demo", ...PROTOCOLS[s.protocol], endpoints: backends.map((b) => `127.0.0.1:${portFor(b, s.protocol)}`),
      pool: { minConnections: 1 }, outlier: s.outlier ?? { baseEjection: "10s" }, retryBudget: s.retryBudget,
    },
    routes: s.routes,
  });
  cleanup.push(async () => {
    await gw.stop();
    await Promise.all(backends.map((b) => b.kill()));
  });
  const attempts = countAttempts(gw);
  const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `k${i}`, delayMs: s.delayMs }), concurrency: s.concurrency });
  const victim = backends[0]!;
  const victimKey = `127.0.0.1:${portFor(victim, s.protocol)}`;
  const victimInFlight = async () => (await adminUpstream(gw, "demo")).endpoints.find((e) => e.key === victimKey)?.inFlight ?? 0;
  await sleepMs(300);
  let inFlightAtKill = 0;
  if (s.minInFlightAtKill !== undefined) {
    await waitFor(async () => (inFlightAtKill = await victimInFlight()) >= s.minInFlightAtKill!, 5_000, 10);
  }
  const killedAt = Date.now();
  await victim.kill();
  const ejected = async () => (await adminUpstream(gw, "demo")).balancer.endpoints.find((e) => e.key === victimKey)!.ejected;
  // Ejection needs 5 connect failures in a row; under a loaded machine that can take more than a moment.
  if (s.outlier !== false) await waitFor(ejected, 5_000, 20);
  const ejectedAfterMs = Date.now() - killedAt;
  await sleepMs(s.outlier === false ? 800 : 300);
  const r = await load.stop();
  const view = await adminUpstream(gw, "demo");
  const dead = view.balancer.endpoints.find((e) => e.key === victimKey)!;
  const lastFailureAfterKill = Math.max(0, ...r.outcomes.filter((o) => o.status !== 200).map((o) => o.at + o.ms - killedAt));
  return { r, attempts, dead, lastFailureAfterKill, ejectedAfterMs, budget: view.retryBudget, inFlightAtKill };
}

const retryRoute: RouteInput = { method: "demo.v1.EchoService/Echo", idempotent: true, retry: { maxAttempts: 3, initialBackoff: "10ms" } };
/** What a client sees for a call that was sent and lost with its connection. */
const SENT_AND_LOST = "503 upstream_connection_closed";

for (const protocol of Object.keys(PROTOCOLS) as ProtocolName[]) {
  describe(`${protocol}: SIGKILL of one of three backend processes under load`, () => {
    const base = { protocol, backends: 3, concurrency: 24, delayMs: 30 } as const;

    test("non-idempotent calls: only the calls in flight on the dead backend fail; never-sent ones are retried", async () => {
      const { r, attempts, dead, lastFailureAfterKill, ejectedAfterMs } = await killUnderLoad({ ...base, routes: [] });
      console.log(
        `hard kill/${protocol}/non-idempotent: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)} (last failure ${Math.round(lastFailureAfterKill)} ms after the kill); ` +
          `failed attempts: ${attempts.neverSent} never sent (retried), ${attempts.sent} sent ${JSON.stringify(attempts.reasons)}; dead endpoint ejected=${dead.ejected} ${ejectedAfterMs} ms after the kill`,
      );
      expect(r.failed).toBeLessThanOrEqual(base.concurrency); // bounded by the calls in flight at the kill
      // Sent and lost (503, never 499: the upstream went away, nobody cancelled); never a never-sent one.
      for (const k of Object.keys(r.failures)) expect(k).toBe(SENT_AND_LOST);
      expect(attempts.neverSent).toBeGreaterThan(0); // never-sent attempts happened and were absorbed
      expect(dead.ejected).toBe(true);
      expect(r.ok).toBeGreaterThan(200);
    }, 20_000);

    test("idempotent calls with retries and the default retry budget: zero failures", async () => {
      const { r, attempts, dead, budget } = await killUnderLoad({ ...base, routes: [retryRoute] });
      console.log(
        `hard kill/${protocol}/idempotent+retry, default budget: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; ` +
          `failed attempts retried: ${attempts.neverSent} never sent, ${attempts.sent} sent ${JSON.stringify(attempts.reasons)}; budget ${JSON.stringify(budget)}; ejected=${dead.ejected}`,
      );
      for (const o of r.outcomes) if (o.status !== 200) console.log(`hard kill/${protocol}: failed call ${JSON.stringify(o)}`); // diagnostics if it ever happens
      expect(r.failed).toBe(0);
      expect(budget.throttled).toBe(0);
      expect(dead.ejected).toBe(true);
      expect(attempts.neverSent + attempts.sent).toBeGreaterThan(0); // attempts failed and were absorbed
    }, 20_000);
  });
}

// The case behind the budget change: many calls in flight on the killed backend at once, one healthy
// backend left. Calls are slow (150 ms) so that at least 8 are on the victim when it dies. Outlier
// ejection is off so the dead endpoint keeps being picked for 800 ms: each such pick fails to connect
// (never sent) and must be retried transparently on the healthy backend.
describe("grpc: SIGKILL with 8+ calls in flight on the victim, one healthy backend left", () => {
  const base = { protocol: "grpc", backends: 2, concurrency: 20, delayMs: 150, minInFlightAtKill: 8, outlier: false } as const;

  test("non-idempotent calls: every never-sent call succeeds on the other backend; only sent ones are lost", async () => {
    const { r, attempts, inFlightAtKill } = await killUnderLoad({ ...base, routes: [] });
    console.log(
      `hard kill/8+ in flight/non-idempotent: ${inFlightAtKill} in flight on the victim at the kill; ${r.ok} ok; ` +
        `never-sent attempts ${attempts.neverSent}, all retried on the healthy backend; sent and lost: ${r.failed} ${JSON.stringify(r.failures)}`,
    );
    expect(inFlightAtKill).toBeGreaterThanOrEqual(8);
    expect(attempts.neverSent).toBeGreaterThan(0);
    // No never-sent failure reaches a client: whatever failed had been sent (and the route isn't idempotent).
    for (const k of Object.keys(r.failures)) expect(k).toBe(SENT_AND_LOST);
    // Only what was on the victim when it died; afterwards nothing fails although it is still picked.
    expect(r.failed).toBeLessThanOrEqual(base.concurrency);
  }, 20_000);

  test("idempotent calls with retries and the default budget (100 tokens): zero failures, nothing throttled", async () => {
    const { r, attempts, budget, inFlightAtKill } = await killUnderLoad({ ...base, routes: [retryRoute] });
    console.log(
      `hard kill/8+ in flight/idempotent+retry, default budget: ${inFlightAtKill} in flight at the kill; ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; ` +
        `retried attempts: ${attempts.neverSent} never sent, ${attempts.sent} sent; budget ${JSON.stringify(budget)}`,
    );
    expect(inFlightAtKill).toBeGreaterThanOrEqual(8);
    expect(attempts.neverSent).toBeGreaterThan(0); // picks of the dead endpoint...
    expect(attempts.sent).toBeGreaterThan(0); // ...and calls lost in flight...
    expect(r.failed).toBe(0); // ...and every one was retried
    // Never-sent failures cost nothing; sent ones are bounded by what was in flight on the victim (a retry
    // avoids the endpoint that failed), far fewer than the 50 that would reach the throttling threshold.
    expect(budget.throttled).toBe(0);
    expect(budget.maxTokens).toBe(100);
  }, 20_000);

  test("for comparison, gRFC A6's example budget (10 tokens): client-visible failures are retries it refused", async () => {
    const { r, attempts, budget, inFlightAtKill } = await killUnderLoad({ ...base, routes: [retryRoute], retryBudget: { maxTokens: 10, tokenRatio: 0.1 } });
    console.log(
      `hard kill/8+ in flight/idempotent+retry, 10-token budget: ${inFlightAtKill} in flight at the kill; ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; ` +
        `retried attempts: ${attempts.neverSent} never sent, ${attempts.sent} sent; budget ${JSON.stringify(budget)}`,
    );
    expect(inFlightAtKill).toBeGreaterThanOrEqual(8);
    // Never-sent retries don't ask the budget, so every failure is a sent loss the budget refused to retry.
    for (const k of Object.keys(r.failures)) expect(k).toBe(SENT_AND_LOST);
    expect(budget.throttled).toBeGreaterThanOrEqual(r.failed);
  }, 20_000);
});
