import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import type { AttemptContext } from "./context.ts";
import { DeadlinePolicy } from "./deadline-policy.ts";

describe("DeadlinePolicy", () => {
  test("aborts the inner signal and rejects with DEADLINE_EXCEEDED even if fn ignores the signal", async () => {
    const p = new DeadlinePolicy({ timeoutMs: 20, name: "users" });
    let inner: AbortSignal | undefined;
    const err = await p
      .execute((ctx) => {
        inner = ctx.signal;
        return new Promise<never>(() => {}); // never settles
      })
      .catch((e: unknown) => e);
    expect(GatewayError.is(err)).toBe(true);
    const g = err as GatewayError;
    expect(g.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(g.reason).toBe(Reason.upstreamTimeout);
    expect(g.reason).toBe("upstream_deadline_exceeded");
    expect(g.message).toContain("users");
    expect(inner?.aborted).toBe(true);
    expect(inner?.reason).toBe(g);
  });

  test("a fn that rejects because of the abort still surfaces DEADLINE_EXCEEDED", async () => {
    const p = new DeadlinePolicy({ timeoutMs: 10 });
    const err = await p
      .execute(
        (ctx) =>
          new Promise<never>((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
          ),
      )
      .catch((e: unknown) => e);
    expect((err as GatewayError).code).toBe(GrpcCode.DEADLINE_EXCEEDED);
  });

  test("a call that finishes in time resolves and its signal is never aborted", async () => {
    const p = new DeadlinePolicy({ timeoutMs: 1000 });
    let ctxSeen: AttemptContext | undefined;
    const v = await p.execute(async (ctx) => {
      ctxSeen = ctx;
      return "done";
    });
    expect(v).toBe("done");
    await new Promise((r) => setTimeout(r, 5));
    expect(ctxSeen?.signal.aborted).toBe(false);
    expect(ctxSeen?.deadlineAt).toBeNumber();
  });

  test("an inherited earlier deadline binds; a later one does not", async () => {
    const now = 1_000_000;
    const clock = { now: () => now };
    const p = new DeadlinePolicy({ timeoutMs: 500, clock });
    const a = await p.execute(async (ctx) => ctx.deadlineAt, undefined, { deadlineAt: now + 100 });
    expect(a).toBe(now + 100);
    const b = await p.execute(async (ctx) => ctx.deadlineAt, undefined, { deadlineAt: now + 10_000 });
    expect(b).toBe(now + 500);
  });

  test("a deadline already past fails without calling fn", async () => {
    const p = new DeadlinePolicy({});
    let called = false;
    const err = await p
      .execute(async () => void (called = true), undefined, { deadlineAt: Date.now() - 1 })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect((err as GatewayError).code).toBe(GrpcCode.DEADLINE_EXCEEDED);
  });

  test("without timeoutMs or inherited deadline it just runs fn", async () => {
    const p = new DeadlinePolicy();
    expect(await p.execute(async (ctx) => ctx.deadlineAt)).toBeUndefined();
  });

  test("errors before the deadline pass through unchanged", async () => {
    const p = new DeadlinePolicy({ timeoutMs: 1000 });
    const boom = new Error("boom");
    expect(await p.execute(async () => Promise.reject(boom)).catch((e: unknown) => e)).toBe(boom);
  });
});
