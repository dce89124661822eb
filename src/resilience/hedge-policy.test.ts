import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason, type GatewayErrorInit } from "../core/index.ts";
import type { AttemptContext } from "./context.ts";
import { HedgePolicy, type HedgeEvent } from "./hedge-policy.ts";
import { LatencyEstimator } from "./latency-estimator.ts";
import { wrap } from "./policy.ts";
import { RetryBudget } from "./retry-budget.ts";
import { RetryPolicy } from "./retry-policy.ts";

function err(code: number, message: string, extra: Partial<GatewayErrorInit> = {}): GatewayError {
  return new GatewayError({ code: code as GatewayErrorInit["code"], reason: Reason.upstreamStatus, message, ...extra });
}

/** Never settles on its own; rejects with the abort reason once its signal fires. */
function hang(ctx: AttemptContext): Promise<never> {
  return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("HedgePolicy", () => {
  test("a slow first attempt loses to the hedge and its signal is aborted", async () => {
    const p = new HedgePolicy({ delayMs: 15, maxHedges: 1 });
    const seen: AttemptContext[] = [];
    const events: HedgeEvent[] = [];
    p.onHedge.on((e) => events.push(e));
    const v = await p.execute(
      async (ctx) => {
        seen.push(ctx);
        if (ctx.attempt === 0) return hang(ctx);
        await delay(2);
        return `won by attempt ${ctx.attempt}`;
      },
      undefined,
      { idempotent: true },
    );
    expect(v).toBe("won by attempt 1");
    expect(seen).toHaveLength(2);
    expect(seen[0]!.hedge).toBe(false);
    expect(seen[1]!.hedge).toBe(true);
    expect(seen[0]!.signal.aborted).toBe(true);
    expect((seen[0]!.signal.reason as DOMException).name).toBe("AbortError");
    expect(seen[1]!.signal.aborted).toBe(false);
    expect(events).toEqual([{ name: undefined, hedge: 1, trigger: "delay" }]);
    expect(p.stats()).toMatchObject({ calls: 1, hedges: 1, hedgeWins: 1 });
  });

  test("a hedge asks for a different endpoint: it sees the first attempt's endpoint in excluded", async () => {
    const p = new HedgePolicy({ delayMs: 5 });
    let hedgeExcluded: string[] = [];
    await p.execute(
      async (ctx) => {
        if (ctx.hedge) hedgeExcluded = [...ctx.excluded];
        ctx.markEndpoint(ctx.hedge ? "10.0.0.2:80" : "10.0.0.1:80");
        if (!ctx.hedge) return hang(ctx);
        return "ok";
      },
      undefined,
      { idempotent: true },
    );
    expect(hedgeExcluded).toEqual(["10.0.0.1:80"]);
  });

  test("a fast first attempt wins and no hedge is started", async () => {
    const p = new HedgePolicy({ delayMs: 50, maxHedges: 2 });
    let calls = 0;
    expect(await p.execute(async () => ++calls, undefined, { idempotent: true })).toBe(1);
    await delay(70); // the hedge timer must have been cleared
    expect(calls).toBe(1);
    expect(p.stats().hedges).toBe(0);
  });

  test("non-idempotent calls are never hedged", async () => {
    const p = new HedgePolicy({ delayMs: 5, maxHedges: 3 });
    let calls = 0;
    const v = await p.execute(async () => {
      calls++;
      await delay(30);
      return "slow";
    });
    expect(v).toBe("slow");
    expect(calls).toBe(1);
  });

  test("up to maxHedges extra attempts, spaced by the delay", async () => {
    const p = new HedgePolicy({ delayMs: 5, maxHedges: 2 });
    const attempts: number[] = [];
    const ctl = new AbortController();
    const pending = p.execute(
      (ctx) => {
        attempts.push(ctx.attempt);
        return hang(ctx);
      },
      ctl.signal,
      { idempotent: true },
    );
    await delay(60);
    expect(attempts).toEqual([0, 1, 2]);
    ctl.abort(new Error("caller gone"));
    await expect(pending).rejects.toThrow("caller gone");
  });

  test("when all attempts fail, the last error is returned", async () => {
    const p = new HedgePolicy({ delayMs: 1000, maxHedges: 2 });
    let n = 0;
    const e = await p
      .execute(
        async () => {
          n++;
          throw err(GrpcCode.UNAVAILABLE, `attempt ${n} failed`);
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    // Non-fatal failures start the next hedge at once (no 1s wait).
    expect(n).toBe(3);
    expect((e as GatewayError).message).toBe("attempt 3 failed");
  });

  test("a sent failure is preferred over a later neverSent one", async () => {
    const p = new HedgePolicy({ delayMs: 1000, maxHedges: 1 });
    const e = await p
      .execute(
        async (ctx) => {
          if (ctx.attempt === 0) throw err(GrpcCode.UNAVAILABLE, "reset by peer");
          throw err(GrpcCode.UNAVAILABLE, "connect refused", { neverSent: true });
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect((e as GatewayError).message).toBe("reset by peer");
  });

  test("a fatal error ends the call at once and aborts the other attempts", async () => {
    const p = new HedgePolicy({ delayMs: 5, maxHedges: 1 });
    const seen: AttemptContext[] = [];
    const e = await p
      .execute(
        async (ctx) => {
          seen.push(ctx);
          if (ctx.attempt === 0) return hang(ctx);
          throw err(GrpcCode.INVALID_ARGUMENT, "bad request");
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect((e as GatewayError).code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.signal.aborted).toBe(true);
  });

  test("the retry budget can refuse hedges", async () => {
    const budget = new RetryBudget({ maxTokens: 2 });
    budget.onFailure(); // 1 token: not above half
    const p = new HedgePolicy({ delayMs: 5, maxHedges: 2, budget });
    let calls = 0;
    const v = await p.execute(
      async () => {
        calls++;
        await delay(30);
        return "slow but alone";
      },
      undefined,
      { idempotent: true },
    );
    expect(v).toBe("slow but alone");
    expect(calls).toBe(1);
    expect(p.stats().throttled).toBe(1);
  });

  test("an invalid pushback stops further hedges", async () => {
    const p = new HedgePolicy({ delayMs: 1000, maxHedges: 3 });
    let calls = 0;
    const e = await p
      .execute(
        async () => {
          calls++;
          throw err(GrpcCode.UNAVAILABLE, "busy", { pushbackMs: -1 });
        },
        undefined,
        { idempotent: true },
      )
      .catch((x: unknown) => x);
    expect(calls).toBe(1);
    expect((e as GatewayError).message).toBe("busy");
  });

  test("the adaptive delay follows the latency percentile with a floor", async () => {
    const estimator = new LatencyEstimator({ window: 100, minSamples: 10, refreshEvery: 1 });
    const p = new HedgePolicy({ percentile: 0.9, delayMs: 77, minDelayMs: 5, estimator });
    expect(p.currentDelayMs()).toBe(77); // warming up: fixed fallback
    for (let i = 1; i <= 100; i++) estimator.record(i);
    expect(p.currentDelayMs()).toBe(90);
    for (let i = 0; i < 100; i++) estimator.record(1);
    expect(p.currentDelayMs()).toBe(5); // p90 = 1ms, floored
  });

  test("winning attempts feed the estimator", async () => {
    const estimator = new LatencyEstimator({ minSamples: 1 });
    const p = new HedgePolicy({ percentile: 0.5, estimator });
    await p.execute(async () => "a", undefined, { idempotent: true });
    await p.execute(async () => "b"); // not hedged, still measured
    expect(estimator.count).toBe(2);
  });

  test("retry around hedge: each retry runs a fresh hedged group", async () => {
    const hedge = new HedgePolicy({ delayMs: 1000, maxHedges: 1 });
    const retry = new RetryPolicy({ maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } });
    const attempts: number[] = [];
    const v = await wrap(retry, hedge).execute(
      async (ctx) => {
        attempts.push(ctx.attempt);
        if (attempts.length <= 2) throw err(GrpcCode.UNAVAILABLE, "down");
        return "ok";
      },
      undefined,
      { idempotent: true },
    );
    expect(v).toBe("ok");
    expect(attempts).toEqual([0, 1, 2]);
  });
});
