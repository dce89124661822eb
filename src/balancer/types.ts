/**
 * Balancers see endpoints only through this structural handle: they never build, own or close
 * connections (the grpc-js split between load balancer and subchannel). The upstream group above
 * wraps each per-endpoint pool in a handle and acts on the picked one.
 */
import type { GatewayError } from "../core/index.ts";

export interface EndpointHandle {
  /** "ip:port" of the resolved address: the same key the pool and discovery use. */
  readonly key: string;
  /** Relative share of traffic; 0 keeps the endpoint known but out of rotation. */
  readonly weight: number;
  /** Calls in flight on this endpoint now (least-request compares these). */
  inflight(): number;
}

/**
 * ok: use this endpoint. queue: nothing to pick yet (no endpoint list has arrived); wait for the
 * next picker. fail: give up now (GatewayError UNAVAILABLE "no_endpoints").
 */
export type PickResult<E extends EndpointHandle = EndpointHandle> =
  | { readonly kind: "ok"; readonly endpoint: E }
  | { readonly kind: "queue" }
  | { readonly kind: "fail"; readonly error: GatewayError };

export interface PickContext {
  /** Consistent-hash key for this call (e.g. a user id header); ignored by other balancers. */
  readonly hashKey?: string;
}

/**
 * An immutable snapshot: its endpoint list never changes (a change builds a new picker). It may
 * keep a cursor (round-robin position), which is why a snapshot is not shared across balancers.
 */
export interface Picker<E extends EndpointHandle = EndpointHandle> {
  readonly endpoints: readonly E[];
  pick(ctx?: PickContext): PickResult<E>;
}

export type FailureKind = "connect" | "call";

export type BalancerKind = "round_robin" | "least_request" | "ring_hash";
