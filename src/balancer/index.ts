export type { BalancerKind, EndpointHandle, FailureKind, Picker, PickContext, PickResult } from "./types.ts";
export { Balancer, type BalancerOptions, type BalancerStats, type EndpointStats } from "./balancer.ts";
export { balancerKinds, createBalancer, type CreateBalancerOptions } from "./create-balancer.ts";
export { createRoundRobinPicker } from "./round-robin.ts";
export { createLeastRequestPicker } from "./least-request.ts";
export { createRingHashPicker, type RingHashOptions } from "./ring-hash.ts";
export {
  OutlierDetector, type EjectionReason, type EndpointHealthStats, type OutlierEvent, type OutlierOptions,
} from "./outlier-detector.ts";
export { hash32 } from "./hash.ts";
