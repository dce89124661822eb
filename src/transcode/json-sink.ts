// A growable byte buffer that JSON text is written into as UTF-8, so a reply goes from protobuf
// binary to HTTP body bytes without building a JS string (and without a TextEncoder pass over it).
const encoder = new TextEncoder();
/** "00" "01" ... "99" as ASCII pairs. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

export class JsonSink {
  buf: Uint8Array;
  len = 0;

  constructor(capacity: number | Uint8Array) {
    this.buf = typeof capacity === "number" ? new Uint8Array(Math.max(64, Math.ceil(capacity))) : capacity;
  }

  reserve(n: number): void {
    if (this.len + n > this.buf.length) this.#grow(n);
  }

  #grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A string known to be ASCII (numbers, keys, base64). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    if (n > 64) {
      encoder.encodeInto(s, this.buf.subarray(this.len, this.len + n));
    } else {
      const buf = this.buf;
      let at = this.len;
      for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    }
    this.len += n;
  }

  /** Any string, as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.len += encoder.encodeInto(s, this.buf.subarray(this.len)).written;
  }

  /** Bytes copied as they are (pre-encoded keys, plain ASCII taken straight from the wire). */
  raw(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const buf = this.buf;
    if (n > 32) {
      buf.set(src.subarray(start, end), this.len);
    } else {
      let at = this.len;
      for (let i = start; i < end; i++) buf[at++] = src[i]!;
    }
    this.len += n;
  }

  /** An integer with |v| < 2^31: digits written directly, two at a time. */
  int(v: number): void {
    if (v < 0) {
      if (v <= -2147483648) return this.ascii(String(v));
      this.byte(0x2d);
      v = -v;
    }
    if (v >= 2147483648) return this.ascii(String(v));
    v = v | 0; // int32 from here: integer division and remainder stay in integer registers
    if (v < 10) return this.byte(0x30 + v);
    const digits = v < 100 ? 2 : v < 1000 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
    this.#digits(v, digits);
  }

  /** Exactly `width` digits of 0 <= v < min(10^width, 2^31), zero-padded. */
  #digits(v: number, width: number): void {
    v = v | 0;
    this.reserve(width);
    const buf = this.buf;
    let at = this.len + width;
    this.len = at;
    for (; width >= 2; width -= 2) {
      const q = (v / 100) | 0;
      const r = (v - q * 100) << 1;
      buf[--at] = PAIRS[r + 1]!;
      buf[--at] = PAIRS[r]!;
      v = q;
    }
    if (width === 1) buf[--at] = 0x30 + v;
  }

  /** Digits of a non-negative integer below 2^53, in int32 pieces (no slow double %). */
  uint53(v: number): void {
    if (v < 2147483648) return this.int(v);
    let hi = Math.floor(v / 1e9);
    let lo = v - hi * 1e9; // exact: both terms are integers below 2^53
    if (lo < 0) {
      hi--;
      lo += 1e9;
    } else if (lo >= 1e9) {
      hi++;
      lo -= 1e9;
    }
    this.int(hi);
    this.#digits(lo, 9);
  }

  /**
   * A finite double as JavaScript prints it (Number::toString, which JSON.stringify
   * uses). Fast path for values with at most 8 decimals (prices, volumes) and 1e-6 <= |v| < 1e7: if
   * round(|v| * 1e8) / 1e8 === |v|, that decimal without its trailing zeros is the shortest
   * round-trip form: any shorter form has fewer decimals and would have rounded to the same n, and
   * 1e-8 > 4 ulp(v) leaves no second candidate of the same length; no exponent in that range.
   * Everything else goes through String(v).
   */
  double(v: number): void {
    const a = v < 0 ? -v : v;
    if (a >= 1e-6 && a < 1e7) {
      const n = Math.round(a * 1e8);
      if (n / 1e8 === a) {
        const ip = Math.floor(a);
        let frac = (n - ip * 1e8) | 0; // an integer in [0, 1e8)
        if (v < 0) this.byte(0x2d);
        if (frac === 0) return this.int(ip); // an integer (callers normally print those themselves)
        let j = 8;
        while (frac % 10 === 0) {
          frac = (frac / 10) | 0;
          j--;
        }
        this.int(ip);
        this.byte(0x2e);
        this.#digits(frac, j);
        return;
      }
    }
    this.ascii(String(v));
  }

  /** A copy of the bytes written, exactly their size (the buffer itself may be reused). */
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
