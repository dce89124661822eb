/**
 * 32-bit string hash for ring positions: FNV-1a over UTF-16 code units, then MurmurHash3's fmix32
 * finalizer so near-identical inputs ("10.0.0.1:80-1", "-2", ...) spread over the whole ring.
 * Deterministic across processes and runtimes, so every gateway instance builds the same ring.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
