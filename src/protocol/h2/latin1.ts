// Header field bytes <-> strings, one byte per UTF-16 code unit (ISO-8859-1), as node:http2 does.
// Not TextDecoder("latin1"): the Encoding Standard maps that label to windows-1252.

const CHUNK = 4096;

export function latin1(src: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return "";
  if (len <= CHUNK) return String.fromCharCode.apply(null, src.subarray(start, end) as unknown as number[]);
  let s = "";
  for (let i = start; i < end; i += CHUNK) {
    s += String.fromCharCode.apply(null, src.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[]);
  }
  return s;
}

/** Writes the low byte of each code unit of `s` at offset; returns the new offset. */
export function writeLatin1(s: string, dst: Uint8Array, offset: number): number {
  for (let i = 0; i < s.length; i++) dst[offset++] = s.charCodeAt(i);
  return offset;
}
