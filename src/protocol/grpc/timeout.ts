// grpc-timeout header: up to 8 ASCII digits and a unit (H M S m u n).
// Source: PROTOCOL-HTTP2.md, "Timeout".
const UNITS: readonly [string, number][] = [["n", 1e-6], ["u", 1e-3], ["m", 1], ["S", 1000], ["M", 60_000], ["H", 3_600_000]];

export function encodeGrpcTimeout(ms: number): string {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 1e8) return `${v}m`;
  if (v / 1000 < 1e8) return `${Math.ceil(v / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(v / 60_000))}M`;
}

/** Milliseconds, or undefined when malformed. */
export function parseGrpcTimeout(value: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  const unit = UNITS.find(([u]) => u === m[2]);
  return unit ? Number(m[1]) * unit[1] : undefined;
}
