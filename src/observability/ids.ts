/** Random trace and span ids (lowercase hex), never all zeros (W3C Trace Context §3.2.2.3, §3.2.2.4). */

// Random bytes are drawn from the CSPRNG in blocks and turned into hex text once per block; an id is
// then a slice of that text (a substring, no copy): one getRandomValues and one hex pass per ~170
// requests instead of three of each per request (a trace id, our span id, the upstream span id).
const POOL_BYTES = 4096;
const bytes = new Uint8Array(POOL_BYTES);
const chars = new Uint8Array(POOL_BYTES * 2);
const DIGITS = new TextEncoder().encode("0123456789abcdef");
const ascii = new TextDecoder(); // the hex digits are ASCII, so UTF-8 decodes them one byte per char
let hex = "";
let used = POOL_BYTES * 2; // hex chars handed out

function refill(): void {
  crypto.getRandomValues(bytes);
  for (let i = 0; i < POOL_BYTES; i++) {
    const b = bytes[i]!;
    chars[2 * i] = DIGITS[b >> 4]!;
    chars[2 * i + 1] = DIGITS[b & 15]!;
  }
  hex = ascii.decode(chars);
  used = 0;
}

const ZEROS: Record<number, string> = { 32: "0".repeat(32), 16: "0".repeat(16) };

function randomHex(length: 32 | 16): string {
  for (;;) {
    if (used + length > hex.length) refill();
    const s = hex.slice(used, used + length);
    used += length;
    if (s !== ZEROS[length]) return s; // all-zero ids are invalid; 2^-64 odds, but cheap to rule out
  }
}

/** 16 random bytes as 32 hex chars. */
export function newTraceId(): string {
  return randomHex(32);
}

/** 8 random bytes as 16 hex chars. */
export function newSpanId(): string {
  return randomHex(16);
}
