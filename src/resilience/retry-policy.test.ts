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

    // ...and with a code the predicate would not retry, up to maxAttempts.
    const p3 = new RetryPolicy({ maxAttempts: 3, backoff: FAST });
    const g = flaky(5, () => err(GrpcCode.INTERNAL, { neverSent: true }));
    await p3.execute(g.fn).catch(() => {});
    expect(g.calls).toBe(3);
    expect(p3.stats().gaveUp.exhausted).toBe(1);
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
