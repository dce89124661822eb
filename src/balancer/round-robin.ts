import { ok } from "./pick-result.ts";
import type { EndpointHandle, Picker } from "./types.ts";

/**
 * Smooth weighted round-robin, as nginx does it (ngx_http_upstream_get_peer): each pick adds every
 * endpoint's weight to its running score, takes the highest score and subtracts the total from it.
 * Weights 5:1:1 give a b a c a a a ... rather than a a a a a b c, so a heavy endpoint never gets a
 * burst. O(n) per pick; equal weights take an O(1) cursor instead.
 *
 * The list is rotated by a random offset so gateway instances that (re)build pickers together do
 * not all send their first calls to the same endpoint.
 */
export function createRoundRobinPicker<E extends EndpointHandle>(endpoints: readonly E[], random: () => number = Math.random): Picker<E> {
  const n = endpoints.length;
  const offset = Math.min(n - 1, Math.floor(random() * n));
  const list = Object.freeze([...endpoints.slice(offset), ...endpoints.slice(0, offset)]);
  const first = list[0]!.weight;
  if (list.every((e) => e.weight === first)) {
    let next = 0;
    return {
      endpoints: list,
      pick() {
        const e = list[next]!;
        next = next + 1 === n ? 0 : next + 1;
        return ok(e);
      },
    };
  }
  const weights = list.map((e) => e.weight);
  const total = weights.reduce((a, b) => a + b, 0);
  const score = new Float64Array(n);
  return {
    endpoints: list,
    pick() {
      let best = 0;
      for (let i = 0; i < n; i++) {
        score[i] = score[i]! + weights[i]!;
        if (score[i]! > score[best]!) best = i;
      }
      score[best] = score[best]! - total;
      return ok(list[best]!);
    },
  };
}
