/** Exponential back-off with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier?: number;
  /** 0 = no jitter, 1 = full jitter. */
  jitter?: number;
}

export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * Math.pow(o.multiplier ?? 2, Math.max(0, attempt)));
  const j = o.jitter ?? 1;
  return Math.round(base * (1 - j) + base * j * random());
}

/** A value +/- fraction, e.g. max connection age with jitter so connections don't all expire together. */
export function jittered(value: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(value * (1 - fraction + 2 * fraction * random()));
}
