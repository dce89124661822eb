/**
 * The one composition order for a call's policies (argued in README.md):
 *
 *   rate limit -> deadline -> bulkhead -> breaker -> retry -> hedge -> attempt
 *
 * `composeCallPolicy` builds it from whichever parts a route has, so the
 * invoker can't get the order wrong.
 */
import type { Policy } from "./policy.ts";
import { wrap } from "./policy.ts";

export interface CallPolicyParts {
  rateLimit?: Policy;
  deadline?: Policy;
  bulkhead?: Policy;
  breaker?: Policy;
  retry?: Policy;
  hedge?: Policy;
}

export const CALL_POLICY_ORDER = ["rateLimit", "deadline", "bulkhead", "breaker", "retry", "hedge"] as const satisfies readonly (keyof CallPolicyParts)[];

export function composeCallPolicy(parts: CallPolicyParts): Policy {
  const chain: Policy[] = [];
  for (const k of CALL_POLICY_ORDER) {
    const p = parts[k];
    if (p) chain.push(p);
  }
  return wrap(...chain);
}
