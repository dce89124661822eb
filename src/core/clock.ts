/** Injectable clock so time-based logic is testable. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Parses durations like "1.5s", "300ms", "2m", "1h" or a bare number of ms. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  switch (m[2]) {
    case "s": return v * 1000;
    case "m": return v * 60_000;
    case "h": return v * 3_600_000;
    default: return v;
  }
}
