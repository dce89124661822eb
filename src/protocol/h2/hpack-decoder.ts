// HPACK decoder (RFC 7541): static + dynamic table, Huffman strings, table size updates.
// One decoder per connection: header blocks must be decoded in the order they arrive (RFC 9113 4.3).
import { HpackError } from "./errors.ts";
import { huffmanDecode } from "./hpack-huffman.ts";
import { STATIC_TABLE } from "./hpack-static-table.ts";
import { latin1 } from "./latin1.ts";

export type HeaderMap = Record<string, string | string[]>;

/** RFC 7541 4.1: an entry's size is its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /** Newest entry last; dynamic index 1 (HPACK index 62) is names[names.length - 1]. */
  #names: string[] = [];
  #values: string[] = [];
  #size = 0;
  /** Current limit set by the encoder's size updates; never above #maxAllowed. */
  #limit: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most the peer's encoder may use (RFC 7541 4.2). */
  #maxAllowed: number;
  #maxListSize: number;
  /** After decode(): the block's header list exceeded maxListSize (fields past it were dropped). */
  tooLarge = false;
  /** After decode(): why the field list is malformed (RFC 9113 8.2.1/8.3), or undefined. */
  malformed: string | undefined;

  constructor(o: { maxTableSize?: number; maxHeaderListSize?: number } = {}) {
    this.#maxAllowed = this.#limit = o.maxTableSize ?? 4096;
    this.#maxListSize = o.maxHeaderListSize ?? Number.MAX_SAFE_INTEGER;
  }

  get tableSize(): number {
    return this.#size;
  }

  /** Dynamic table entries, newest first (for tests and debugging). */
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = this.#names.length - 1; i >= 0; i--) out.push([this.#names[i]!, this.#values[i]!]);
    return out;
  }

  /** Decodes one complete header block. Throws HpackError (a COMPRESSION_ERROR) on bad input. */
  decode(block: Uint8Array): HeaderMap {
    const out: HeaderMap = Object.create(null) as HeaderMap;
    this.tooLarge = false;
    this.malformed = undefined;
    let listSize = 0;
    let sawRegular = false;
    let sawField = false;
    let p = 0;
    const end = block.length;
    while (p < end) {
      const b = block[p]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // 6.1 Indexed Header Field.
        const [index, q] = readInt(block, p, 7);
        p = q;
        if (index === 0) throw new HpackError("index 0");
        [name, value] = this.#entry(index);
      } else if ((b & 0xe0) === 0x20) {
        // 6.3 Dynamic Table Size Update: only before the first field of a block (4.2).
        if (sawField) throw new HpackError("dynamic table size update after a header field");
        const [size, q] = readInt(block, p, 5);
        p = q;
        if (size > this.#maxAllowed) throw new HpackError(`table size update ${size} above the limit ${this.#maxAllowed}`);
        this.#limit = size;
        this.#evict(0);
        continue;
      } else {
        // 6.2.1 with incremental indexing (01), 6.2.2 without (0000), 6.2.3 never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        const [index, q] = readInt(block, p, indexing ? 6 : 4);
        p = q;
        if (index === 0) {
          [name, p] = readString(block, p);
          if (!validName(name)) this.malformed ??= `invalid header name ${JSON.stringify(name)}`;
        } else {
          name = this.#entry(index)[0];
        }
        [value, p] = readString(block, p);
        if (indexing) this.#add(name, value);
      }
      sawField = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.#maxListSize) {
        this.tooLarge = true;
        continue; // keep decoding: the dynamic table must stay in step with the peer's
      }
      if (name.charCodeAt(0) === 58 /* ':' */) {
        if (sawRegular) this.malformed ??= `pseudo-header ${name} after a regular header`;
      } else {
        sawRegular = true;
      }
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else if (typeof prev === "string") out[name] = [prev, value];
      else prev.push(value);
    }
    return out;
  }

  #entry(index: number): [string, string] {
    if (index <= STATIC_TABLE.length) {
      const e = STATIC_TABLE[index - 1]!;
      return [e[0], e[1]];
    }
    const i = this.#names.length - (index - STATIC_TABLE.length);
    if (i < 0) throw new HpackError(`index ${index} beyond the dynamic table (${this.#names.length} entries)`);
    return [this.#names[i]!, this.#values[i]!];
  }

  /** RFC 7541 4.4: evict from the oldest until the new entry fits; an entry larger than the table empties it. */
  #add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#limit) {
      this.#names.length = 0;
      this.#values.length = 0;
      this.#size = 0;
      return;
    }
    this.#evict(size);
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  /** Evicts oldest entries until `room` more bytes fit under the limit (RFC 7541 4.3). */
  #evict(room: number): void {
    let drop = 0;
    while (this.#size + room > this.#limit && drop < this.#names.length) {
      this.#size -= this.#names[drop]!.length + this.#values[drop]!.length + ENTRY_OVERHEAD;
      drop++;
    }
    if (drop > 0) {
      this.#names.splice(0, drop);
      this.#values.splice(0, drop);
    }
  }
}

/** RFC 7541 5.1 integer with an N-bit prefix; returns [value, next offset]. */
export function readInt(src: Uint8Array, p: number, prefix: number): [number, number] {
  const max = (1 << prefix) - 1;
  let v = src[p++]! & max;
  if (v < max) return [v, p];
  let shift = 0;
  for (;;) {
    if (p >= src.length) throw new HpackError("truncated integer");
    const b = src[p++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
    shift += 7;
    // Anything that needs more than 4 continuation bytes exceeds every limit we have (2^28 + prefix).
    if (shift > 21) throw new HpackError("integer too large");
  }
  return [v, p];
}

/** RFC 7541 5.2 string literal; returns [string, next offset]. */
function readString(src: Uint8Array, p: number): [string, number] {
  if (p >= src.length) throw new HpackError("truncated string");
  const huffman = (src[p]! & 0x80) !== 0;
  const [len, q] = readInt(src, p, 7);
  const end = q + len;
  if (end > src.length) throw new HpackError("string longer than its header block");
  return [huffman ? huffmanDecode(src, q, end) : latin1(src, q, end), end];
}

/** RFC 9113 8.2.1: field names are lowercase tokens (a leading ':' for pseudo-headers). */
function validName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = name.charCodeAt(0) === 58 ? 1 : 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a) || c === 58) return false;
  }
  return true;
}
