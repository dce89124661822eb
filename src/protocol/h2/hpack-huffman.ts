// HPACK Huffman code (RFC 7541 5.2, Appendix B). The code is canonical (codes assigned in order of
// length, then symbol), so the code lengths alone define it; codes are derived below.
import { HpackError } from "./errors.ts";
import { latin1 } from "./latin1.ts";

/** Appendix B code lengths of symbols 0..255 and EOS (256). */
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7,
  6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24,
  23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22,
  23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27,
  24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27,
  27, 28, 27, 27, 27, 27, 27, 26, 30,
];
const EOS = 256;

/** Codes right-aligned (the last bit is the lowest), as printed in Appendix B. */
const CODES = new Uint32Array(257);
{
  const order = [...LENGTHS.keys()].sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let prev = LENGTHS[order[0]!]!;
  order.forEach((sym, i) => {
    const len = LENGTHS[sym]!;
    if (i > 0) code = (code + 1) * 2 ** (len - prev);
    prev = len;
    CODES[sym] = code;
  });
}

// Decoding: a state machine over 4-bit nibbles (as nghttp2 does). States are the 256 inner nodes of
// the code tree; for each (state, nibble) the table holds the next state, the symbol completed in
// those 4 bits (at most one: the shortest code has 5 bits), and whether the walk hit EOS. A string
// may end only in an "accepting" state: at the root, or at most 7 bits down a path of 1s, i.e. a
// prefix of EOS used as padding (RFC 7541 5.2: longer padding, or padding that is not the EOS
// prefix, or EOS itself in the string, is a decoding error).
const NEXT = new Uint16Array(256 * 16);
const SYM = new Int16Array(256 * 16);
const ACCEPT = new Uint8Array(256);
const FAIL = -2;
{
  // Tree: inner nodes 0..255 (0 = root); child entries >= 0 are inner nodes, < 0 are leaves (-1 - symbol).
  const child: number[][] = [[0, 0]];
  const depth = [0];
  const ones = [true];
  let inner = 1;
  for (let sym = 0; sym <= 256; sym++) {
    const len = LENGTHS[sym]!;
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(CODES[sym]! / 2 ** b) & 1;
      if (b === 0) {
        child[node]![bit] = -1 - sym;
      } else {
        if (!child[node]![bit]) {
          child.push([0, 0]);
          depth.push(depth[node]! + 1);
          ones.push(ones[node]! && bit === 1);
          child[node]![bit] = inner++;
        }
        node = child[node]![bit]!;
      }
    }
  }
  for (let s = 0; s < 256; s++) ACCEPT[s] = s === 0 || (ones[s]! && depth[s]! <= 7) ? 1 : 0;
  for (let s = 0; s < 256; s++) {
    for (let v = 0; v < 16; v++) {
      let node = s;
      let sym = -1;
      for (let b = 3; b >= 0; b--) {
        const next = child[node]![(v >> b) & 1]!;
        if (next < 0) {
          const leaf = -1 - next;
          if (leaf === EOS) {
            sym = FAIL;
            break;
          }
          sym = leaf;
          node = 0;
        } else {
          node = next;
        }
      }
      NEXT[s * 16 + v] = node;
      SYM[s * 16 + v] = sym;
    }
  }
}

/** Decodes a Huffman-coded string (RFC 7541 5.2). Throws HpackError on invalid input. */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  const out = new Uint8Array(((end - start) * 8) / 5 + 1);
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let k = state * 16 + (byte >> 4);
    let sym = SYM[k]!;
    if (sym >= 0) out[n++] = sym;
    else if (sym === FAIL) throw new HpackError("EOS symbol in a Huffman-coded string");
    state = NEXT[k]!;
    k = state * 16 + (byte & 15);
    sym = SYM[k]!;
    if (sym >= 0) out[n++] = sym;
    else if (sym === FAIL) throw new HpackError("EOS symbol in a Huffman-coded string");
    state = NEXT[k]!;
  }
  if (!ACCEPT[state]) throw new HpackError("invalid Huffman padding");
  return latin1(out, 0, n);
}

/** Length in bytes of `s` (latin1 code units) Huffman-coded. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff]!;
  return Math.ceil(bits / 8);
}

/** Huffman-codes `s` into dst at offset; returns the new offset. Pads with the EOS prefix (1s). */
export function huffmanEncode(s: string, dst: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, fewer than 8 between symbols; up to 37 bits during one (safe as a double)
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = LENGTHS[sym]!;
    acc = acc * 2 ** len + CODES[sym]!;
    n += len;
    while (n >= 8) {
      n -= 8;
      const p = 2 ** n;
      const byte = Math.floor(acc / p);
      dst[offset++] = byte;
      acc -= byte * p;
    }
  }
  if (n > 0) dst[offset++] = (acc << (8 - n)) | (0xff >> n);
  return offset;
}
