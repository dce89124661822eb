import type { EndpointHandle } from "./types.ts";

/**
 * Draws an index with probability proportional to weight: prefix sums + binary search, O(log n).
 * With equal weights it is a plain uniform draw.
 */
export function createWeightedSampler(endpoints: readonly EndpointHandle[], random: () => number): () => number {
  const n = endpoints.length;
  const first = endpoints[0]?.weight;
  if (endpoints.every((e) => e.weight === first)) return () => Math.min(n - 1, Math.floor(random() * n));
  const prefix = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) prefix[i] = total += endpoints[i]!.weight;
  return () => {
    const r = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (prefix[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
