/**
 * One shape for every resilience concern (cockatiel's idea): a policy runs a
 * function with an attempt context and may run it again, race it, delay it or
 * refuse it. `wrap()` nests policies outer -> inner, passing each inner policy
 * the context of the one around it so the whole stack shares one call ledger.
 */
import { enterContext, type AttemptContext, type ExecuteOptions } from "./context.ts";

export interface Policy {
  execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T>;
}

/** Runs fn once; the identity of `wrap`. */
export const noopPolicy: Policy = {
  execute(fn, signal, options) {
    return fn(enterContext(signal, options));
  },
};

/** Composes policies, first = outermost. See README.md for the order the invoker should use. */
export function wrap(...policies: Policy[]): Policy {
  if (policies.length === 0) return noopPolicy;
  if (policies.length === 1) return policies[0]!;
  return {
    execute<T>(fn: (ctx: AttemptContext) => Promise<T>, signal?: AbortSignal, options?: ExecuteOptions): Promise<T> {
      const step = (i: number, ctx: AttemptContext): Promise<T> =>
        i === policies.length ? fn(ctx) : policies[i]!.execute((c) => step(i + 1, c), ctx.signal, { parent: ctx });
      return policies[0]!.execute((c) => step(1, c), signal, options);
    },
  };
}

/** Calls fn, turning a synchronous throw into a rejection so every policy sees one failure path. */
export function invoke<T>(fn: (ctx: AttemptContext) => Promise<T>, ctx: AttemptContext): Promise<T> {
  try {
    return Promise.resolve(fn(ctx));
  } catch (e) {
    return Promise.reject(e);
  }
}
