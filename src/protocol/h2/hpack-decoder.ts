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
    const r = this.#r;
    r.src = block;
    r.p = 0;
    const end = block.length;
    while (r.p < end) {
      const b = block[r.p]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // 6.1 Indexed Header Field.
        const index = r.int(7);
        if (index === 0) throw new HpackError("index 0");
        if (index <= STATIC_TABLE.length) {
          const e = STATIC_TABLE[index - 1]!;
          name = e[0];
          value = e[1];
        } else {
          const i = this.#dynamicSlot(index);
          name = this.#names[i]!;
          value = this.#values[i]!;
        }
      } else if ((b & 0xe0) === 0x20) {
        // 6.3 Dynamic Table Size Update: only before the first field of a block (4.2).
        if (sawField) throw new HpackError("dynamic table size update after a header field");
        const size = r.int(5);
        if (size > this.#maxAllowed) throw new HpackError(`table size update ${size} above the limit ${this.#maxAllowed}`);
        this.#limit = size;
        this.#evict(0);
        continue;
      } else {
        // 6.2.1 with incremental indexing (01), 6.2.2 without (0000), 6.2.3 never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        const index = r.int(indexing ? 6 : 4);
        if (index === 0) {
          name = r.string();
          if (!validName(name)) this.malformed ??= `invalid header name ${JSON.stringify(name)}`;
        } else if (index <= STATIC_TABLE.length) {
          name = STATIC_TABLE[index - 1]![0];
        } else {
          name = this.#names[this.#dynamicSlot(index)]!;
        }
        value = r.string();
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
    r.src = EMPTY;
    return out;
  }

  #r = new BlockReader();

  /** Position in #names/#values of HPACK index `index` (> 61). */
  #dynamicSlot(index: number): number {
    const i = this.#names.length - (index - STATIC_TABLE.length);
    if (i < 0) throw new HpackError(`index ${index} beyond the dynamic table (${this.#names.length} entries)`);
    return i;
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

const EMPTY = new Uint8Array(0);

/** A cursor over one header block: integers (RFC 7541 5.1) and string literals (5.2). */
class BlockReader {
  src: Uint8Array = EMPTY;
  p = 0;

  int(prefix: number): number {
    const src = this.src;
    const max = (1 << prefix) - 1;
    let v = src[this.p++]! & max;
    if (v < max) return v;
    let shift = 0;
    for (;;) {
      if (this.p >= src.length) throw new HpackError("truncated integer");
      const b = src[this.p++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
      // Anything that needs more than 4 continuation bytes exceeds every limit we have (2^28 + prefix).
      if (shift > 21) throw new HpackError("integer too large");
    }
  }

  string(): string {
    const src = this.src;
    if (this.p >= src.length) throw new HpackError("truncated string");
    const huffman = (src[this.p]! & 0x80) !== 0;
    const len = this.int(7);
    const start = this.p;
    const end = start + len;
    if (end > src.length) throw new HpackError("string longer than its header block");
    this.p = end;
    return huffman ? huffmanDecode(src, start, end) : latin1(src, start, end);
  }
}

/** RFC 7541 5.1 integer with an N-bit prefix; returns [value, next offset] (for tests and tools). */
export function readInt(src: Uint8Array, p: number, prefix: number): [number, number] {
  const r = new BlockReader();
  r.src = src;
  r.p = p;
  const v = r.int(prefix);
  return [v, r.p];
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
