/** Random trace and span ids (lowercase hex), never all zeros (W3C Trace Context §3.2.2.3, §3.2.2.4). */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  for (;;) {
    crypto.getRandomValues(b);
    let s = "";
    let any = 0;
    for (let i = 0; i < bytes; i++) {
      any |= b[i]!;
      s += HEX[b[i]!];
    }
    if (any !== 0) return s; // all-zero ids are invalid; 2^-64 odds, but cheap to rule out
  }
}

/** 16 random bytes as 32 hex chars. */
export function newTraceId(): string {
  return randomHex(16);
}

/** 8 random bytes as 16 hex chars. */
export function newSpanId(): string {
  return randomHex(8);
}
