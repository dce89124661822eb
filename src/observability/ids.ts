/** Random trace and span ids (lowercase hex), never all zeros (W3C Trace Context §3.2.2.3, §3.2.2.4). */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

// Random bytes are drawn from the CSPRNG in blocks and handed out in order: one getRandomValues call
// per ~170 requests instead of three per request (a trace id, our span id, the upstream span id).
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;

function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > POOL_BYTES) {
      crypto.getRandomValues(pool);
      used = 0;
    }
    let s = "";
    let any = 0;
    for (let i = 0; i < bytes; i++) {
      const b = pool[used++]!;
      any |= b;
      s += HEX[b];
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
