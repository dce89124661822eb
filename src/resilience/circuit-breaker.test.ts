import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason, type GatewayErrorInit } from "../core/index.ts";
import { BreakerState, CircuitBreaker, type BreakerStateChange } from "./circuit-breaker.ts";
import { retryAfterMsOf } from "./errors.ts";
import { ConsecutiveFailuresRule, ErrorRateRule } from "./trip-rule.ts";

function err(code: number, extra: Partial<GatewayErrorInit> = {}): GatewayError {
  return new GatewayError({ code: code as GatewayErrorInit["code"], reason: Reason.upstreamStatus, message: `code ${code}`, ...extra });
}

function fakeClock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const ok = async () => "ok";
const fail = (code: number = GrpcCode.UNAVAILABLE) => async () => {
  throw err(code);
};

describe("ErrorRateRule", () => {
  test("does not trip below minSamples whatever the error rate", () => {
    const r = new ErrorRateRule({ minSamples: 10, threshold: 0.5 });
    for (let i = 0; i < 9; i++) r.record(false, 0);
    expect(r.shouldTrip(0)).toBe(false);
    r.record(false, 0);
    expect(r.shouldTrip(0)).toBe(true);
  });

  test("trips at the threshold, not below", () => {
    const r = new ErrorRateRule({ minSamples: 10, threshold: 0.5 });
    for (let i = 0; i < 6; i++) r.record(true, 0);
    for (let i = 0; i < 4; i++) r.record(false, 0);
    expect(r.shouldTrip(0)).toBe(false);
    r.record(false, 0);
    r.record(false, 0); // 6 ok / 6 failed
    expect(r.shouldTrip(0)).toBe(true);
  });

  test("old buckets slide out of the window", () => {
    const r = new ErrorRateRule({ minSamples: 4, threshold: 0.5, windowMs: 1000, buckets: 10 });
    for (let i = 0; i < 4; i++) r.record(false, 0);
    expect(r.counts(900)).toEqual({ total: 4, failures: 4 });
    expect(r.counts(1000)).toEqual({ total: 0, failures: 0 });
    expect(r.shouldTrip(1000)).toBe(false);
    // a reused bucket is zeroed first
    r.record(true, 1005);
    expect(r.counts(1005)).toEqual({ total: 1, failures: 0 });
  });

  test("defaults are 50% over at least 200 calls", () => {
    const r = new ErrorRateRule();
    for (let i = 0; i < 199; i++) r.record(false, 0);
    expect(r.shouldTrip(0)).toBe(false);
    r.record(false, 0);
    expect(r.shouldTrip(0)).toBe(true);
  });
});

describe("CircuitBreaker", () => {
  test("opens within the window, fails fast, half-opens after the cool-down, closes on probe success", async () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({
      name: "inventory",
      rule: new ErrorRateRule({ minSamples: 10, threshold: 0.5, windowMs: 10_000 }),
      cooldownMs: 5000,
      clock,
    });
    const changes: BreakerStateChange[] = [];
    b.onStateChange.on((c) => changes.push(c));

    for (let i = 0; i < 5; i++) await b.execute(ok);
    for (let i = 0; i < 4; i++) await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.closed);
    clock.t += 1000; // still inside the window
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.open);

    let called = false;
    const e = await b.execute(async () => void (called = true)).catch((x: unknown) => x);
    expect(called).toBe(false);
    const g = e as GatewayError;
    expect(g.code).toBe(GrpcCode.UNAVAILABLE);
    expect(g.reason).toBe(Reason.circuitOpen);
    expect(g.message).toContain("inventory");
    expect(retryAfterMsOf(g)).toBe(5000);
    expect(b.stats().rejected).toBe(1);

    clock.t += 4999;
    expect(b.state).toBe(BreakerState.open);
    clock.t += 1;
    expect(b.state).toBe(BreakerState.halfOpen);

    // One probe at a time: a second call while the probe runs fails fast.
    let release!: () => void;
    const probe = b.execute(() => new Promise<string>((r) => (release = () => r("probe ok"))));
    const second = await b.execute(ok).catch((x: unknown) => x);
    expect((second as GatewayError).reason).toBe(Reason.circuitOpen);
    release();
    expect(await probe).toBe("probe ok");
    expect(b.state).toBe(BreakerState.closed);

    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual(["closed->open", "open->half_open", "half_open->closed"]);
    expect(changes.every((c) => c.name === "inventory")).toBe(true);

    // Closing reset the rule: one failure doesn't reopen it.
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.closed);
  });

  test("a failed probe reopens for another cool-down", async () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(2), cooldownMs: 100, clock });
    await b.execute(fail()).catch(() => {});
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
    clock.t += 100;
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
    expect(b.retryAfterMs()).toBe(100);
    expect(b.stats().opened).toBe(2);
  });

  test("N probes must all succeed to close", async () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(1), cooldownMs: 10, halfOpenProbes: 3, clock });
    await b.execute(fail()).catch(() => {});
    clock.t += 10;
    await b.execute(ok);
    await b.execute(ok);
    expect(b.state).toBe(BreakerState.halfOpen);
    await b.execute(ok);
    expect(b.state).toBe(BreakerState.closed);
  });

  test("business errors and caller mistakes don't count as failures", async () => {
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(3), clock: fakeClock() });
    for (const code of [GrpcCode.INVALID_ARGUMENT, GrpcCode.NOT_FOUND, GrpcCode.PERMISSION_DENIED]) {
      for (let i = 0; i < 3; i++) await b.execute(fail(code)).catch(() => {});
    }
    for (let i = 0; i < 3; i++) {
      await b.execute(async () => Promise.reject(err(GrpcCode.UNKNOWN, { biz: { status: 1, message: "biz" } }))).catch(() => {});
    }
    expect(b.state).toBe(BreakerState.closed);
    for (const code of [GrpcCode.DEADLINE_EXCEEDED, GrpcCode.INTERNAL, GrpcCode.UNKNOWN]) await b.execute(fail(code)).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
  });

  test("RESOURCE_EXHAUSTED counts; plain thrown errors count as UNKNOWN", async () => {
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(2), clock: fakeClock() });
    await b.execute(fail(GrpcCode.RESOURCE_EXHAUSTED)).catch(() => {});
    await b.execute(async () => Promise.reject(new Error("socket hang up"))).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
  });

  test("a caller cancellation is neither success nor failure and frees the probe slot", async () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(1), cooldownMs: 10, clock });
    await b.execute(fail()).catch(() => {});
    clock.t += 10;
    const ctl = new AbortController();
    const cancelled = b
      .execute((ctx) => new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason))), ctl.signal)
      .catch((x: unknown) => x);
    ctl.abort(new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "gone" }));
    await cancelled;
    expect(b.state).toBe(BreakerState.halfOpen);
    expect(await b.execute(ok)).toBe("ok"); // the slot was freed for a new probe
    expect(b.state).toBe(BreakerState.closed);
  });

  test("a deadline abort counts as a failure", async () => {
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(1), clock: fakeClock() });
    const ctl = new AbortController();
    const pending = b
      .execute((ctx) => new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(new DOMException("aborted", "AbortError")))), ctl.signal)
      .catch(() => {});
    ctl.abort(err(GrpcCode.DEADLINE_EXCEEDED, { reason: Reason.upstreamTimeout }));
    await pending;
    expect(b.state).toBe(BreakerState.open);
  });

  test("outcomes of calls admitted before a transition are ignored", async () => {
    const clock = fakeClock();
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(1), cooldownMs: 10, clock });
    const old = b.tryAcquire()!;
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
    clock.t += 10;
    expect(b.state).toBe(BreakerState.halfOpen);
    old.success(); // admitted while closed: must not close the half-open breaker
    expect(b.state).toBe(BreakerState.halfOpen);
  });

  test("permits report once", () => {
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(2), clock: fakeClock() });
    const p = b.tryAcquire()!;
    p.failure();
    p.failure();
    expect(b.state).toBe(BreakerState.closed);
  });

  test("reset() closes an open breaker", async () => {
    const b = new CircuitBreaker({ name: "x", rule: new ConsecutiveFailuresRule(1), clock: fakeClock() });
    await b.execute(fail()).catch(() => {});
    expect(b.state).toBe(BreakerState.open);
    b.reset();
    expect(b.state).toBe(BreakerState.closed);
    expect(await b.execute(ok)).toBe("ok");
  });

  test("settle() classifies a tryAcquire() permit's end as execute() does", () => {
    const b = new CircuitBreaker({ name: "s", rule: new ConsecutiveFailuresRule(2), cooldownMs: 60_000 });
    // Cancellations, business errors and caller errors never count as failures; a success resets the run.
    b.settle(b.tryAcquire()!, err(GrpcCode.UNAVAILABLE));
    b.settle(b.tryAcquire()!, err(GrpcCode.CANCELLED));
    b.settle(b.tryAcquire()!, err(GrpcCode.INVALID_ARGUMENT));
    expect(b.state).toBe(BreakerState.closed);
    b.settle(b.tryAcquire()!, err(GrpcCode.UNAVAILABLE));
    b.settle(b.tryAcquire()!, err(GrpcCode.UNAVAILABLE, { biz: { status: 1, message: "biz" } }));
    b.settle(b.tryAcquire()!);
    expect(b.state).toBe(BreakerState.closed);
    b.settle(b.tryAcquire()!, err(GrpcCode.UNAVAILABLE));
    b.settle(b.tryAcquire()!, err(GrpcCode.DEADLINE_EXCEEDED));
    expect(b.state).toBe(BreakerState.open);
  });
});
