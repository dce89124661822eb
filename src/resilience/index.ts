export type { AttemptContext, ExecuteOptions, ContextPatch } from "./context.ts";
export { enterContext, deriveContext } from "./context.ts";
export type { Policy } from "./policy.ts";
export { wrap, noopPolicy, invoke } from "./policy.ts";
export type { CallPolicyParts } from "./compose.ts";
export { composeCallPolicy, CALL_POLICY_ORDER } from "./compose.ts";
export type { RetryInfoDetail } from "./errors.ts";
export {
  RETRY_INFO_TYPE,
  retryInfoDetail,
  retryAfterMsOf,
  deadlineExceededError,
  circuitOpenError,
  overloadedError,
  rateLimitedError,
} from "./errors.ts";
export { defaultRetryable, defaultHedgeNonFatal, defaultBreakerFailure, isCancellation } from "./predicates.ts";
export type { DeadlineOptions } from "./deadline-policy.ts";
export { DeadlinePolicy } from "./deadline-policy.ts";
export type { RetryBudgetOptions, RetryBudgetStats } from "./retry-budget.ts";
export { RetryBudget } from "./retry-budget.ts";
export type { RetryOptions, RetryEvent, GiveUpEvent, GiveUpReason, RetryStats } from "./retry-policy.ts";
export { RetryPolicy } from "./retry-policy.ts";
export type { LatencyEstimatorOptions } from "./latency-estimator.ts";
export { LatencyEstimator } from "./latency-estimator.ts";
export type { HedgeOptions, HedgeEvent, HedgeStats } from "./hedge-policy.ts";
export { HedgePolicy } from "./hedge-policy.ts";
export type { TripRule, ErrorRateRuleOptions } from "./trip-rule.ts";
export { ErrorRateRule, ConsecutiveFailuresRule } from "./trip-rule.ts";
export type { CircuitBreakerOptions, BreakerStateChange, BreakerStats, BreakerPermit } from "./circuit-breaker.ts";
export { CircuitBreaker, BreakerState } from "./circuit-breaker.ts";
export type { BulkheadOptions, BulkheadStats, BulkheadRejection } from "./bulkhead.ts";
export { Bulkhead } from "./bulkhead.ts";
export type { RateLimiterOptions, RateDecision } from "./rate-limiter.ts";
export { RateLimiter } from "./rate-limiter.ts";
export type { RateLimitPolicyOptions, RateLimitedEvent } from "./rate-limit-policy.ts";
export { RateLimitPolicy } from "./rate-limit-policy.ts";
