import { ok } from "./pick-result.ts";
import type { EndpointHandle, Picker } from "./types.ts";
import { createWeightedSampler } from "./weighted-sampler.ts";

/**
 * Least-request by the power of two choices (Mitzenmacher, "The Power of Two Choices in Randomized
 * Load Balancing", 2001): draw two endpoints at random and take the one with fewer calls in flight.
 * Nearly as good as scanning for the global minimum, O(log n), and it avoids the herd that a pure
 * "least loaded" rule sends to the one endpoint that just became idle.
 *
 * Draws are weight-proportional (with replacement, as Envoy's choice_count=2), and a tie keeps the
 * first draw, so with equal load the traffic split follows the weights.
 */
export function createLeastRequestPicker<E extends EndpointHandle>(endpoints: readonly E[], random: () => number = Math.random): Picker<E> {
  const list = Object.freeze([...endpoints]);
  if (list.length === 1) {
    const only = list[0]!;
    return { endpoints: list, pick: () => ok(only) };
  }
  const draw = createWeightedSampler(list, random);
  return {
    endpoints: list,
    pick() {
      const a = list[draw()]!;
      const b = list[draw()]!;
      return ok(b.inflight() < a.inflight() ? b : a);
    },
  };
}
