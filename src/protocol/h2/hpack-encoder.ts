// HPACK encoder (RFC 7541), deliberately simple: static-table indices where a field or its name is in
// the static table, otherwise literals without indexing (6.2.2), never indexed (6.2.3) for credentials.
// It never inserts into the peer's dynamic table, so any SETTINGS_HEADER_TABLE_SIZE the peer sends,
// 0 included, is honoured without a size update (4.2). Encoded fields are cached: a gateway sends the
// same few fields (:path, :authority, content-type, te, user-agent) on every call.
import { huffmanEncode, huffmanLength } from "./hpack-huffman.ts";
import { STATIC_NAME_INDEX, STATIC_PAIR_INDEX } from "./hpack-static-table.ts";
import { writeLatin1 } from "./latin1.ts";

const NEVER_INDEXED = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
/** Fields whose values change on every call are not worth caching. */
const UNCACHED = new Set(["grpc-timeout", "x-request-id", "traceparent", "tracestate"]);
const CACHE_LIMIT = 1024;
const CACHE_MAX_FIELD = 512;

export class HpackEncoder {
  /** name -> value -> encoded field. */
  #cache = new Map<string, Map<string, Uint8Array>>();
  #cached = 0;
  #scratch = new Uint8Array(1024);
  #len = 0;

  /**
   * Encodes a header list. Names must already be lowercase (RFC 9113 8.2.1). The result is a view
   * of an internal buffer, valid until the next call.
   */
  encode(headers: Record<string, string>): Uint8Array {
    this.#len = 0;
    for (const name in headers) {
      const value = headers[name]!;
      let byValue = this.#cache.get(name);
      let field = byValue?.get(value);
      if (field === undefined) {
        field = encodeField(name, value);
        if (field.length <= CACHE_MAX_FIELD && !UNCACHED.has(name)) {
          if (this.#cached >= CACHE_LIMIT) {
            this.#cache.clear();
            this.#cached = 0;
            byValue = undefined;
          }
          if (!byValue) this.#cache.set(name, (byValue = new Map()));
          byValue.set(value, field);
          this.#cached++;
        }
      }
      this.#append(field);
    }
    return this.#scratch.subarray(0, this.#len);
  }

  #append(field: Uint8Array): void {
    const pos = this.#len;
    if (pos + field.length > this.#scratch.length) {
      const bigger = new Uint8Array(Math.max(this.#scratch.length * 2, pos + field.length));
      bigger.set(this.#scratch.subarray(0, pos));
      this.#scratch = bigger;
    }
    if (field.length === 1) this.#scratch[pos] = field[0]!;
    else this.#scratch.set(field, pos);
    this.#len = pos + field.length;
  }
}

/** One field's representation (RFC 7541 6.1 or 6.2.2/6.2.3). */
export function encodeField(name: string, value: string): Uint8Array {
  const exact = STATIC_PAIR_INDEX.get(`${name}\0${value}`);
  if (exact !== undefined) return new Uint8Array([0x80 | exact]); // all static indices fit the 7-bit prefix
  const nameIndex = STATIC_NAME_INDEX.get(name) ?? 0;
  const buf = new Uint8Array(6 + (nameIndex ? 0 : 5 + name.length) + 5 + value.length);
  const pattern = NEVER_INDEXED.has(name) ? 0x10 : 0x00;
  let p = writeInt(buf, 0, nameIndex, 4, pattern);
  if (!nameIndex) p = writeString(buf, p, name);
  p = writeString(buf, p, value);
  return buf.slice(0, p);
}

/** RFC 7541 5.1 integer with an N-bit prefix, `pattern` in the bits above it. */
export function writeInt(dst: Uint8Array, p: number, v: number, prefix: number, pattern: number): number {
  const max = (1 << prefix) - 1;
  if (v < max) {
    dst[p++] = pattern | v;
    return p;
  }
  dst[p++] = pattern | max;
  v -= max;
  while (v >= 128) {
    dst[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  dst[p++] = v;
  return p;
}

/** RFC 7541 5.2 string literal, Huffman-coded when that is shorter. */
function writeString(dst: Uint8Array, p: number, s: string): number {
  const h = huffmanLength(s);
  if (h < s.length) {
    p = writeInt(dst, p, h, 7, 0x80);
    return huffmanEncode(s, dst, p);
  }
  p = writeInt(dst, p, s.length, 7, 0x00);
  return writeLatin1(s, dst, p);
}
