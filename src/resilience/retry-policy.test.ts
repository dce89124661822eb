import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason, type GatewayErrorInit } from "../core/index.ts";
import { DeadlinePolicy } from "./deadline-policy.ts";
import { wrap } from "./policy.ts";
import { RetryBudget } from "./retry-budget.ts";
import { RetryPolicy, type GiveUpEvent, type RetryEvent } from "./retry-policy.ts";

const FAST = { initialMs: 1, maxMs: 1, jitter: 0 };

function err(code: number, extra: Partial<GatewayErrorInit> = {}): GatewayError {
  return new GatewayError({ code: code as GatewayErrorInit["code"], reason: Reason.upstreamStatus, message: `code ${code}`, ...extra });
}

/** A function that fails `n` times with `make()` then returns "ok"; counts calls. */
function flaky(n: number, make: () => unknown) {
  const f = {
    calls: 0,
    fn: async () => {
      f.calls++;
      if (f.calls <= n) throw make();
      return "ok";
    },
  };
  return f;
}

describe("RetryPolicy", () => {
  test("idempotent call failing twice with UNAVAILABLE is retried and recovers", async () => {
    const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST });
    const events: RetryEvent[] = [];
    p.onRetry.on((e) => events.push(e));
    const f = flaky(2, () => err(GrpcCode.UNAVAILABLE));
    expect(await p.execute(f.fn, undefined, { idempotent: true })).toBe("ok");
    expect(f.calls).toBe(3);
    expect(events.map((e) => e.retry)).toEqual([1, 2]);
    const s = p.stats();
    expect(s.retries).toBe(2);
    expect(s.attempts).toBe(3);
    expect(s.successes).toBe(1);
  });

  test("non-idempotent call is not retried", async () => {
    const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST });
    const gaveUp: GiveUpEvent[] = [];
    p.onGiveUp.on((e) => gaveUp.push(e));
    const f = flaky(2, () => err(GrpcCode.UNAVAILABLE));
    const e = await p.execute(f.fn).catch((x: unknown) => x);
    expect((e as GatewayError).code).toBe(GrpcCode.UNAVAILABLE);
    expect(f.calls).toBe(1);
    expect(gaveUp.map((g) => g.reason)).toEqual(["not_idempotent"]);
  });

  test("neverSent errors are retried even for non-idempotent calls, and even with maxAttempts 1", async () => {
    const p = new RetryPolicy({ maxAttempts: 1, backoff: FAST });
    const f = flaky(1, () => err(GrpcCode.UNAVAILABLE, { reason: Reason.notSent, neverSent: true }));
    expect(await p.execute(f.fn, undefined, { idempotent: false })).toBe("ok");
    expect(f.calls).toBe(2);

    // ...and with a code the predicate would not retry: one transparent retry, then maxAttempts counted ones.
    const p3 = new RetryPolicy({ maxAttempts: 3, backoff: FAST });
    const g = flaky(5, () => err(GrpcCode.INTERNAL, { neverSent: true }));
    await p3.execute(g.fn).catch(() => {});
    expect(g.calls).toBe(4);
    expect(p3.stats().gaveUp.exhausted).toBe(1);
    expect(p3.stats().transparentRetries).toBe(1);
  });

  describe("transparent retry of never-sent failures (gRFC A6)", () => {
    const notSent = () => err(GrpcCode.UNAVAILABLE, { reason: Reason.notSent, neverSent: true });

    test("happens at once (no back-off) and is reported as transparent", async () => {
      const p = new RetryPolicy({ maxAttempts: 3, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
      const events: RetryEvent[] = [];
      p.onRetry.on((e) => events.push(e));
      const f = flaky(1, notSent);
      expect(await p.execute(f.fn)).toBe("ok");
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ delayMs: 0, transparent: true, neverSent: true });
    });

    test("neither needs nor costs a budget token, even with the budget drained", async () => {
      const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
      for (let i = 0; i < 10; i++) budget.onFailure();
      expect(budget.tryRetry()).toBe(false);
      const throttledBefore = budget.stats().throttled;
      const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST, budget });
      // 8 calls lose their connection before sending, all at once: each is retried and succeeds.
      const fs = Array.from({ length: 8 }, () => flaky(1, notSent));
      const results = await Promise.all(fs.map((f) => p.execute(f.fn)));
      expect(results).toEqual(Array(8).fill("ok"));
      for (const f of fs) expect(f.calls).toBe(2);
      expect(budget.stats().throttled).toBe(throttledBefore);
      // The 8 successes refund tokens; the never-sent failures took none.
      expect(budget.tokens).toBeCloseTo(0.8, 10);
    });

    test("a never-sent failure with a full budget leaves it full", async () => {
      const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
      const p = new RetryPolicy({ maxAttempts: 2, backoff: FAST, budget });
      const f = flaky(3, notSent);
      await p.execute(f.fn).catch(() => {});
      expect(budget.tokens).toBe(10);
    });

    test("does not count against maxAttempts", async () => {
      const p = new RetryPolicy({ maxAttempts: 2, backoff: FAST });
      let n = 0;
      const v = await p.execute(
        async () => {
          n++;
          if (n === 1) throw notSent();
          if (n === 2) throw err(GrpcCode.UNAVAILABLE); // sent and failed: the one counted retry
          return "ok";
        },
        undefined,
        { idempotent: true },
      );
      expect(v).toBe("ok");
      expect(n).toBe(3);
      expect(p.stats()).toMatchObject({ attempts: 3, retries: 2, transparentRetries: 1 });
    });

    test("only one per call: a second never-sent failure is an ordinary retry, gated by the budget", async () => {
      const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 1 });
      for (let i = 0; i < 2; i++) budget.onFailure(); // 2 tokens: at half, retries refused
      const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST, budget });
      const f = flaky(2, notSent);
      const e = await p.execute(f.fn).catch((x: unknown) => x);
      expect((e as GatewayError).neverSent).toBe(true);
      expect(f.calls).toBe(2);
      expect(p.stats().gaveUp.budget).toBe(1);
      // With tokens to spare the second never-sent failure is retried, even for a non-idempotent call.
      const q = new RetryPolicy({ maxAttempts: 3, backoff: FAST, budget: new RetryBudget({ maxTokens: 10 }) });
      const g = flaky(2, notSent);
      expect(await q.execute(g.fn, undefined, { idempotent: false })).toBe("ok");
      expect(g.calls).toBe(3);
      expect(q.stats()).toMatchObject({ retries: 2, transparentRetries: 1 });
    });

    test("transparentRetries: 0 makes never-sent failures ordinary (counted) retries", async () => {
      const p = new RetryPolicy({ maxAttempts: 2, backoff: FAST, transparentRetries: 0 });
      const f = flaky(5, notSent);
      await p.execute(f.fn).catch(() => {});
      expect(f.calls).toBe(2);
      expect(p.stats().transparentRetries).toBe(0);
      expect(() => new RetryPolicy({ transparentRetries: -1 })).toThrow(RangeError);
    });

    test("is not started at or past the deadline", async () => {
      let now = 1_000;
      const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST, clock: { now: () => now } });
      const f = flaky(1, () => {
        now = 5_000;
        return notSent();
      });
      const e = await p.execute(f.fn, undefined, { deadlineAt: 5_000 }).catch((x: unknown) => x);
      expect((e as GatewayError).neverSent).toBe(true);
      expect(f.calls).toBe(1);
      expect(p.stats().gaveUp.deadline).toBe(1);
    });
  });

  test("errors the predicate rejects are not retried", async () => {
    const p = new RetryPolicy({ maxAttempts: 5, backoff: FAST });
    const f = flaky(1, () => err(GrpcCode.INVALID_ARGUMENT));
    await p.execute(f.fn, undefined, { idempotent: true }).catch(() => {});
    expect(f.calls).toBe(1);
    expect(p.stats().gaveUp.not_retryable).toBe(1);

    const biz = flaky(1, () => err(GrpcCode.UNAVAILABLE, { biz: { status: 1001, message: "no stock" } }));
    await p.execute(biz.fn, undefined, { idempotent: true }).catch(() => {});
    expect(biz.calls).toBe(1);
  });

  test("a custom predicate widens what is retried", async () => {
    const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST, retryable: (e) => GatewayError.is(e) && e.code === GrpcCode.ABORTED });
    const f = flaky(2, () => err(GrpcCode.ABORTED));
    expect(await p.execute(f.fn, undefined, { idempotent: true })).toBe("ok");
    expect(f.calls).toBe(3);
  });

  test("gives up after maxAttempts with the last error", async () => {
    const p = new RetryPolicy({ maxAttempts: 4, backoff: FAST });
    let n = 0;
    const e = await p
      .execute(
        async () => {
          n++;
          throw err(GrpcCode.UNAVAILABLE, { message: `fail ${n}` });
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect(n).toBe(4);
    expect((e as GatewayError).message).toBe("fail 4");
    expect(p.stats().gaveUp.exhausted).toBe(1);
  });

  test("the retry budget caps retries when everything fails", async () => {
    const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
    const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST, budget });
    let attempts = 0;
    const calls = 20;
    for (let i = 0; i < calls; i++) {
      await p
        .execute(
          async () => {
            attempts++;
            throw err(GrpcCode.UNAVAILABLE);
          },
          undefined,
          { idempotent: true },
        )
        .catch(() => {});
    }
    // Without a budget: 60 attempts. Tokens start at 10, each failure costs 1 and
    // retries need > 5 tokens: call 1 retries twice (10->7), call 2 once (->5), then none.
    expect(attempts).toBe(calls + 3);
    expect(p.stats().retries).toBe(3);
    expect(p.stats().gaveUp.budget).toBe(calls - 1);
    expect(budget.tokens).toBe(0);
    expect(budget.stats().throttled).toBe(calls - 1);
  });

  test("the budget refills with successes and allows retries again", async () => {
    const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 1 });
    for (let i = 0; i < 4; i++) budget.onFailure();
    expect(budget.tryRetry()).toBe(false);
    const p = new RetryPolicy({ maxAttempts: 2, backoff: FAST, budget });
    for (let i = 0; i < 3; i++) await p.execute(async () => "ok");
    expect(budget.tokens).toBe(3);
    const f = flaky(1, () => err(GrpcCode.UNAVAILABLE));
    // The failure costs one token (3 -> 2 = maxTokens/2): not strictly above half, so no retry.
    await p.execute(f.fn, undefined, { idempotent: true }).catch(() => {});
    expect(f.calls).toBe(1);
    await p.execute(async () => "ok");
    await p.execute(async () => "ok");
    const g = flaky(1, () => err(GrpcCode.UNAVAILABLE));
    expect(await p.execute(g.fn, undefined, { idempotent: true })).toBe("ok");
    expect(g.calls).toBe(2);
  });

  test("a storm of concurrent failing calls is capped by the shared budget", async () => {
    const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
    const p = new RetryPolicy({ maxAttempts: 5, backoff: { initialMs: 2, maxMs: 5 }, budget });
    let attempts = 0;
    const n = 50;
    await Promise.all(
      Array.from({ length: n }, () =>
        p
          .execute(
            async () => {
              attempts++;
              throw err(GrpcCode.UNAVAILABLE);
            },
            undefined,
            { idempotent: true },
          )
          .catch(() => {}),
      ),
    );
    // Retries are possible only while tokens > 5 and every failure costs one token.
    expect(attempts - n).toBeLessThanOrEqual(5);
    expect(attempts).toBeLessThan(n * 5);
  });

  test("never plans a back-off that would end past the deadline", async () => {
    let now = 0;
    const clock = { now: () => now };
    const p = new RetryPolicy({ maxAttempts: 10, backoff: { initialMs: 20, maxMs: 20, jitter: 0 }, clock });
    const starts: number[] = [];
    const e = await p
      .execute(
        async (ctx) => {
          starts.push(now);
          expect(now).toBeLessThan(ctx.deadlineAt!);
          now += 30; // each attempt "takes" 30ms of call time
          throw err(GrpcCode.UNAVAILABLE);
        },
        undefined,
        { idempotent: true, deadlineAt: 100 },
      )
      .catch((x: unknown) => x);
    // 0 -> fail at 30 (+20 = 50 < 100) -> 30 -> fail at 60 (+20 = 80) -> 60 -> fail at 90 (+20 = 110 >= 100): stop.
    expect(starts).toEqual([0, 30, 60]);
    expect(p.stats().gaveUp.deadline).toBe(1);
    expect((e as GatewayError).code).toBe(GrpcCode.UNAVAILABLE);
  });

  test("inside a real deadline no attempt starts after it", async () => {
    const deadline = new DeadlinePolicy({ timeoutMs: 60 });
    const retry = new RetryPolicy({ maxAttempts: 100, backoff: { initialMs: 15, maxMs: 15, jitter: 0 } });
    const starts: { at: number; deadlineAt: number }[] = [];
    const e = await wrap(deadline, retry)
      .execute(
        async (ctx) => {
          starts.push({ at: Date.now(), deadlineAt: ctx.deadlineAt! });
          throw err(GrpcCode.UNAVAILABLE);
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect(starts.length).toBeGreaterThan(1);
    expect(starts.length).toBeLessThan(100);
    for (const s of starts) expect(s.at).toBeLessThan(s.deadlineAt);
    expect(GatewayError.is(e)).toBe(true);
    // Either the retry saw the deadline coming (UNAVAILABLE) or the deadline fired during the last sleep.
    expect([GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED]).toContain((e as GatewayError).code);
  });

  test("a slow attempt cut by the deadline is not retried", async () => {
    const retry = new RetryPolicy({ maxAttempts: 5, backoff: FAST, retryable: () => true });
    let calls = 0;
    const e = await wrap(new DeadlinePolicy({ timeoutMs: 20 }), retry)
      .execute(
        (ctx) => {
          calls++;
          return new Promise<never>((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect((e as GatewayError).code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(calls).toBe(1);
    expect(retry.stats().gaveUp.cancelled).toBe(1);
  });

  test("pushbackMs replaces the back-off", async () => {
    const p = new RetryPolicy({ maxAttempts: 3, backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    const events: RetryEvent[] = [];
    p.onRetry.on((e) => events.push(e));
    const f = flaky(1, () => err(GrpcCode.UNAVAILABLE, { pushbackMs: 25 }));
    const t0 = Date.now();
    expect(await p.execute(f.fn, undefined, { idempotent: true })).toBe("ok");
    expect(f.calls).toBe(2);
    expect(events).toHaveLength(1);
    expect(events[0]!.delayMs).toBe(25);
    expect(events[0]!.pushback).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20); // it did wait (timers may fire a hair early)
  });

  test("negative or non-integer pushback means don't retry", async () => {
    for (const pushbackMs of [-1, 1.5, Number.NaN]) {
      const p = new RetryPolicy({ maxAttempts: 3, backoff: FAST });
      const f = flaky(1, () => err(GrpcCode.UNAVAILABLE, { pushbackMs }));
      await p.execute(f.fn, undefined, { idempotent: true }).catch(() => {});
      expect(f.calls).toBe(1);
      expect(p.stats().gaveUp.pushback).toBe(1);
    }
  });

  test("back-off grows exponentially and is jittered by the random source", async () => {
    const p = new RetryPolicy({ maxAttempts: 4, backoff: { initialMs: 2, maxMs: 100, multiplier: 2, jitter: 1 }, random: () => 0.5 });
    const delays: number[] = [];
    p.onRetry.on((e) => delays.push(e.delayMs));
    await p.execute(flaky(3, () => err(GrpcCode.UNAVAILABLE)).fn, undefined, { idempotent: true });
    expect(delays).toEqual([1, 2, 4]); // full jitter at 0.5 of 2, 4, 8
  });

  test("the caller aborting during back-off stops the retries", async () => {
    const p = new RetryPolicy({ maxAttempts: 5, backoff: { initialMs: 1000, maxMs: 1000, jitter: 0 } });
    const ctl = new AbortController();
    let calls = 0;
    const pending = p
      .execute(
        async () => {
          calls++;
          throw err(GrpcCode.UNAVAILABLE);
        },
        ctl.signal,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    await new Promise((r) => setTimeout(r, 10));
    const why = new GatewayError({ code: GrpcCode.CANCELLED, reason: Reason.clientCancelled, message: "gone" });
    ctl.abort(why);
    expect(await pending).toBe(why);
    expect(calls).toBe(1);
    expect(p.stats().gaveUp.cancelled).toBe(1);
  });
});
