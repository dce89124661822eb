import { Balancer, type BalancerOptions } from "./balancer.ts";
import { createLeastRequestPicker } from "./least-request.ts";
import { createRingHashPicker, type RingHashOptions } from "./ring-hash.ts";
import { createRoundRobinPicker } from "./round-robin.ts";
import type { BalancerKind, EndpointHandle } from "./types.ts";

export interface CreateBalancerOptions extends BalancerOptions {
  /** For kind "ring_hash". */
  readonly ringHash?: RingHashOptions;
}

export const balancerKinds: readonly BalancerKind[] = ["round_robin", "least_request", "ring_hash"];

/** round_robin (smooth weighted, the default), least_request (P2C) or ring_hash (consistent hashing on PickContext.hashKey). */
export function createBalancer<E extends EndpointHandle = EndpointHandle>(
  kind: BalancerKind = "round_robin",
  options: CreateBalancerOptions = {},
): Balancer<E> {
  const random = options.random ?? Math.random;
  switch (kind) {
    case "round_robin":
      return new Balancer<E>(kind, (list) => createRoundRobinPicker(list, random), options);
    case "least_request":
      return new Balancer<E>(kind, (list) => createLeastRequestPicker(list, random), options);
    case "ring_hash":
      return new Balancer<E>(kind, (list) => createRingHashPicker(list, options.ringHash, random), options);
    default:
      throw new RangeError(`unknown balancer kind "${String(kind satisfies never)}"`);
  }
}
