import { hash32 } from "./hash.ts";
import { ok } from "./pick-result.ts";
import type { EndpointHandle, Picker, PickContext } from "./types.ts";

const OWNER_SPACE = 2 ** 21;

export interface RingHashOptions {
  /**
   * Ring points per unit of weight. More points: a more even split, a bigger ring. Default 256,
   * which keeps each endpoint's share within about 15% of its weight's share.
   */
  readonly pointsPerWeight?: number;
  /** Cap on one endpoint's points, so a weight of 10,000 does not build a huge ring. Default 10,000. */
  readonly maxPointsPerEndpoint?: number;
}

/**
 * Consistent hashing on a ring with virtual nodes (Karger et al. 1997; the ketama layout).
 *
 * Why a ring and not Maglev: an endpoint's points depend only on its own key and weight, so
 * adding or removing (or ejecting) one endpoint moves exactly the keys that land on its points and
 * no others; Maglev's lookup table is rebuilt as a whole and moves a few extra keys between
 * unchanged endpoints on every change. The price is an O(log points) lookup instead of O(1) and a
 * split that is even only to within a few percent; fine for gateway fan-out of tens to hundreds of
 * endpoints, and sticky keys are what this balancer is for.
 *
 * A pick without a hash key lands on a random point, so it still follows the weights.
 */
export function createRingHashPicker<E extends EndpointHandle>(
  endpoints: readonly E[],
  options: RingHashOptions = {},
  random: () => number = Math.random,
): Picker<E> {
  // Sorted by key so ring ties break by key, whatever order the endpoints came in.
  const list = Object.freeze([...endpoints].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  const perWeight = options.pointsPerWeight ?? 256;
  const cap = options.maxPointsPerEndpoint ?? 10_000;
  const counts = list.map((e) => Math.max(1, Math.min(cap, Math.round(perWeight * e.weight))));
  const size = counts.reduce((a, b) => a + b, 0);
  // Each point packed as hash * 2^21 + owner index (< 2^53, exact in a double), so one native
  // typed-array sort orders by hash, then by key.
  const packed = new Float64Array(size);
  let p = 0;
  list.forEach((e, i) => {
    for (let v = 0; v < counts[i]!; v++) packed[p++] = hash32(`${e.key}-${v}`) * OWNER_SPACE + i;
  });
  packed.sort();
  const ring = new Uint32Array(size);
  const owner = new Uint32Array(size);
  for (let j = 0; j < size; j++) {
    const v = packed[j]!;
    owner[j] = v % OWNER_SPACE;
    ring[j] = (v - owner[j]!) / OWNER_SPACE;
  }

  const lookup = (h: number): E => {
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return list[owner[lo === size ? 0 : lo]!]!;
  };

  return {
    endpoints: list,
    pick(ctx?: PickContext) {
      const h = ctx?.hashKey !== undefined ? hash32(ctx.hashKey) : Math.floor(random() * 0x1_0000_0000) >>> 0;
      return ok(lookup(h));
    },
  };
}
