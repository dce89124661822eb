// Stream admission: the route's rate limit, bulkheads (held until the stream ends) and the upstream's
// breaker (told whether the upstream took the stream), refusing with the errors unary calls get.
import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import { BreakerState, Bulkhead, CircuitBreaker, ConsecutiveFailuresRule, RateLimiter, RateLimitPolicy, retryAfterMsOf } from "../resilience/index.ts";
import { createStreamAdmission } from "./stream-admission.ts";

const unavailable = () => new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.upstreamClosed, message: "gone" });
const deadline = () => new GatewayError({ code: GrpcCode.DEADLINE_EXCEEDED, reason: Reason.upstreamTimeout, message: "late" });

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(GatewayError.is(e)).toBe(true);
  return e as GatewayError;
}

function breaker(): CircuitBreaker {
  return new CircuitBreaker({ name: "upstream demo", rule: new ConsecutiveFailuresRule(2), cooldownMs: 60_000 });
}

describe("createStreamAdmission", () => {
  test("rate limit burst 2: the third stream is refused 429 rate_limited with a retry delay; other keys pass", async () => {
    const rateLimit = new RateLimitPolicy({ name: "route s", limiter: new RateLimiter({ ratePerSec: 0.01, burst: 2 }) });
    const limited: string[] = [];
    rateLimit.onLimited.on((e) => limited.push(e.key));
    const a = createStreamAdmission({ rateLimit, bulkheads: [] });
    (await a.admit({ clientKey: "k" })).done();
    (await a.admit({ clientKey: "k" })).done();
    const e = await refusal(a.admit({ clientKey: "k" }));
    expect(e.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(e.reason).toBe(Reason.rateLimited);
    expect(retryAfterMsOf(e)).toBeGreaterThan(1_000);
    expect(limited).toEqual(["k"]);
    (await a.admit({ clientKey: "other" })).done();
  });

  test("bulkheads: a slot is held until done(), route and upstream alike; a refusal by the inner one frees the outer", async () => {
    const route = new Bulkhead({ name: "route s", maxConcurrent: 2 });
    const upstream = new Bulkhead({ name: "upstream demo", maxConcurrent: 1 });
    const a = createStreamAdmission({ bulkheads: [route, upstream] });
    const first = await a.admit({});
    expect([route.stats().active, upstream.stats().active]).toEqual([1, 1]);
    const e = await refusal(a.admit({}));
    expect(e.reason).toBe(Reason.overloaded);
    expect(e.message).toContain("upstream demo");
    expect(route.stats().active).toBe(1); // the refused stream's route slot was given back
    first.done();
    first.done(); // twice is harmless
    expect([route.stats().active, upstream.stats().active]).toEqual([0, 0]);
    (await a.admit({})).done(unavailable());
    expect(upstream.stats().active).toBe(0);
  });

  test("a queued stream stops waiting when its client leaves", async () => {
    const b = new Bulkhead({ name: "route s", maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 10_000 });
    const a = createStreamAdmission({ bulkheads: [b] });
    const first = await a.admit({});
    const client = new AbortController();
    const waiting = a.admit({ signal: client.signal });
    expect(b.stats().queued).toBe(1);
    client.abort(new DOMException("client left", "AbortError"));
    expect(await waiting.then(() => "admitted", (e: unknown) => (e as Error).name)).toBe("AbortError");
    expect(b.stats().queued).toBe(0);
    first.done();
    expect(b.stats().active).toBe(0);
  });

  test("breaker: failures before a first reply open it, then streams are refused 503 circuit_open with a retry delay", async () => {
    const br = breaker();
    const a = createStreamAdmission({ bulkheads: [], breaker: br });
    (await a.admit({})).done(unavailable());
    (await a.admit({})).done(unavailable());
    expect(br.state).toBe(BreakerState.open);
    const e = await refusal(a.admit({}));
    expect(e.code).toBe(GrpcCode.UNAVAILABLE);
    expect(e.reason).toBe(Reason.circuitOpen);
    expect(retryAfterMsOf(e)).toBeGreaterThan(0);
  });

  test("breaker: a stream that replied and then ended in its deadline (or any error) is not a failure", async () => {
    const br = breaker();
    const a = createStreamAdmission({ bulkheads: [], breaker: br });
    for (let i = 0; i < 5; i++) {
      const p = await a.admit({});
      p.replied();
      p.done(i % 2 ? deadline() : unavailable());
    }
    expect(br.state).toBe(BreakerState.closed);
    // A cancellation before any reply is neither success nor failure.
    const cancelled = new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "client left" });
    (await a.admit({})).done(unavailable());
    (await a.admit({})).done(cancelled);
    (await a.admit({})).done(unavailable());
    expect(br.state).toBe(BreakerState.open);
  });

  test("nothing configured: admits at once", async () => {
    const a = createStreamAdmission({ bulkheads: [] });
    const p = await a.admit({ clientKey: "x" });
    p.replied();
    p.done(unavailable());
  });
});
