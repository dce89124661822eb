// Admission for streaming calls, by the same route policies as unary calls and in the same order
// (rate limit -> bulkhead -> breaker; src/resilience/compose.ts). A stream can't run inside
// Policy.execute (it outlives the promise that opens it, and can't be replayed), so retry and hedging
// don't apply; the rest is taken by hand. A bulkhead slot is held until the stream ends (an open
// stream is a call in flight). The breaker hears whether the upstream took the stream: a first reply
// message is a success; an error before it is classified as for unary calls. How a stream that was
// answered ends later (often the route's deadline cutting a long feed) says nothing about health.
import { circuitOpenError, type Bulkhead, type CircuitBreaker, type RateLimitPolicy } from "../resilience/index.ts";

/** One admitted stream. */
export interface StreamPermit {
  /** The upstream sent a first reply message. */
  replied(): void;
  /** The stream ended, with its error if any (call once; later calls are ignored). */
  done(error?: unknown): void;
}

export interface StreamAdmission {
  /** Resolves when the stream may start; rejects with the refusal (429 rate_limited, 503 overloaded / circuit_open). */
  admit(o: { readonly clientKey?: string; readonly signal?: AbortSignal }): Promise<StreamPermit>;
}

export interface StreamAdmissionParts {
  readonly rateLimit?: RateLimitPolicy;
  /** Outermost first: the route's, then the upstream's. */
  readonly bulkheads: readonly Bulkhead[];
  readonly breaker?: CircuitBreaker;
}

const NOTHING: StreamPermit = { replied() {}, done() {} };

export function createStreamAdmission(parts: StreamAdmissionParts): StreamAdmission {
  const { rateLimit, bulkheads, breaker } = parts;
  if (!rateLimit && bulkheads.length === 0 && !breaker) return { admit: () => Promise.resolve(NOTHING) };
  return {
    async admit(o) {
      // The rate limiter takes its token as the policy does for unary calls (same events, same error).
      if (rateLimit) await rateLimit.execute(() => Promise.resolve(), undefined, { clientKey: o.clientKey });
      const releases: (() => void)[] = [];
      const releaseAll = () => {
        for (const r of releases.splice(0).reverse()) r();
      };
      try {
        for (const b of bulkheads) releases.push(await b.acquire(o.signal));
        const permit = breaker?.tryAcquire();
        if (breaker && !permit) throw circuitOpenError(breaker.name, breaker.retryAfterMs());
        // BreakerPermit ignores every report after the first.
        return {
          replied() {
            permit?.success();
          },
          done(error?: unknown) {
            if (breaker && permit) breaker.settle(permit, error);
            releaseAll();
          },
        };
      } catch (e) {
        releaseAll();
        throw e;
      }
    },
  };
}
