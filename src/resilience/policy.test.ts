import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import { Bulkhead } from "./bulkhead.ts";
import { BreakerState, CircuitBreaker } from "./circuit-breaker.ts";
import { composeCallPolicy, CALL_POLICY_ORDER } from "./compose.ts";
import { enterContext, type AttemptContext } from "./context.ts";
import { HedgePolicy } from "./hedge-policy.ts";
import { noopPolicy, wrap, type Policy } from "./policy.ts";
import { DeadlinePolicy } from "./deadline-policy.ts";
import { RateLimitPolicy } from "./rate-limit-policy.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { RetryBudget } from "./retry-budget.ts";
import { RetryPolicy } from "./retry-policy.ts";
import { ConsecutiveFailuresRule } from "./trip-rule.ts";

function tracer(name: string, log: string[]): Policy {
  return {
    async execute(fn, signal, options) {
      const ctx = enterContext(signal, options);
      log.push(`>${name}`);
      try {
        return await fn(ctx);
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

const unavailable = () => new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: Reason.upstreamClosed, message: "down" });

describe("wrap", () => {
  test("runs policies outer to inner and unwinds inner to outer", async () => {
    const log: string[] = [];
    const p = wrap(tracer("a", log), tracer("b", log), tracer("c", log));
    const v = await p.execute(async () => {
      log.push("fn");
      return 7;
    });
    expect(v).toBe(7);
    expect(log).toEqual([">a", ">b", ">c", "fn", "<c", "<b", "<a"]);
  });

  test("wrap() of nothing runs the function once with a root context", async () => {
    let seen: AttemptContext | undefined;
    await wrap().execute(async (ctx) => void (seen = ctx), undefined, { idempotent: true, clientKey: "k" });
    expect(seen?.attempt).toBe(0);
    expect(seen?.idempotent).toBe(true);
    expect(seen?.clientKey).toBe("k");
    expect(wrap()).toBe(noopPolicy);
  });

  test("call facts reach the innermost context through every policy", async () => {
    const log: string[] = [];
    let seen: AttemptContext | undefined;
    const p = wrap(tracer("a", log), tracer("b", log));
    await p.execute(async (ctx) => void (seen = ctx), undefined, { idempotent: true, deadlineAt: 123, clientKey: "c1" });
    expect(seen?.idempotent).toBe(true);
    expect(seen?.deadlineAt).toBe(123);
    expect(seen?.clientKey).toBe("c1");
  });

  test("retry around hedge: attempts are numbered once per call and see earlier endpoints", async () => {
    const seen: { attempt: number; excluded: string[] }[] = [];
    const p = wrap(new RetryPolicy({ maxAttempts: 3, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }), new HedgePolicy({ maxHedges: 0 }));
    const v = await p.execute(
      async (ctx) => {
        seen.push({ attempt: ctx.attempt, excluded: [...ctx.excluded] });
        ctx.markEndpoint(`ep${ctx.attempt}`);
        if (seen.length < 3) throw unavailable();
        return "ok";
      },
      undefined,
      { idempotent: true },
    );
    expect(v).toBe("ok");
    expect(seen).toEqual([
      { attempt: 0, excluded: [] },
      { attempt: 1, excluded: ["ep0"] },
      { attempt: 2, excluded: ["ep0", "ep1"] },
    ]);
  });

  test("separate calls have separate ledgers", async () => {
    const p = wrap(new RetryPolicy({ maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1, jitter: 0 } }));
    const sizes: number[] = [];
    for (let i = 0; i < 2; i++) {
      await p.execute(async (ctx) => {
        sizes.push(ctx.excluded.size);
        ctx.markEndpoint("same");
      });
    }
    expect(sizes).toEqual([0, 0]);
  });
});

describe("composeCallPolicy", () => {
  test("applies the fixed order whatever order the parts are given in", async () => {
    const log: string[] = [];
    const parts = {
      hedge: tracer("hedge", log),
      retry: tracer("retry", log),
      breaker: tracer("breaker", log),
      rateLimit: tracer("rateLimit", log),
      bulkhead: tracer("bulkhead", log),
      deadline: tracer("deadline", log),
    };
    await composeCallPolicy(parts).execute(async () => {});
    const entered = log.filter((l) => l.startsWith(">")).map((l) => l.slice(1));
    expect(entered).toEqual([...CALL_POLICY_ORDER]);
    expect(entered).toEqual(["rateLimit", "deadline", "bulkhead", "breaker", "retry", "hedge"]);
  });

  test("skips missing parts", async () => {
    const log: string[] = [];
    await composeCallPolicy({ retry: tracer("retry", log), rateLimit: tracer("rl", log) }).execute(async () => {});
    expect(log).toEqual([">rl", ">retry", "<retry", "<rl"]);
  });
});

describe("the full stack", () => {
  test("a flaky idempotent call recovers through every policy and leaves no state behind", async () => {
    const budget = new RetryBudget();
    const bulkhead = new Bulkhead({ name: "u", maxConcurrent: 4 });
    const breaker = new CircuitBreaker({ name: "u", rule: new ConsecutiveFailuresRule(1) });
    const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initialMs: 1, maxMs: 1, jitter: 0 }, budget });
    const hedge = new HedgePolicy({ delayMs: 500, maxHedges: 1, budget });
    const stack = composeCallPolicy({
      rateLimit: new RateLimitPolicy({ name: "u", limiter: new RateLimiter({ ratePerSec: 100 }) }),
      deadline: new DeadlinePolicy({ timeoutMs: 1000 }),
      bulkhead,
      breaker,
      retry,
      hedge,
    });
    let n = 0;
    const v = await stack.execute(
      async (ctx) => {
        n++;
        expect(ctx.deadlineAt).toBeNumber();
        if (n < 3) throw unavailable();
        return "ok";
      },
      undefined,
      { idempotent: true, clientKey: "c" },
    );
    expect(v).toBe("ok");
    expect(n).toBe(3);
    // Retries happened inside the breaker: it saw one successful call, not two failures.
    expect(breaker.state).toBe(BreakerState.closed);
    expect(bulkhead.stats().active).toBe(0);
    // Attempt 0 fails (non-fatal) -> the hedge starts attempt 1 at once, which fails too ->
    // the hedged group fails -> one retry -> attempt 2 succeeds.
    expect(hedge.stats().hedges).toBe(1);
    expect(retry.stats().retries).toBe(1);
  });
});
