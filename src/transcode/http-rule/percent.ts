// Percent-encoding rules for matching and variable values.
// Literal comparison uses RFC 3986 section 6.2.2 normalization: hex digits upper-cased
// and percent-encoded unreserved characters decoded, so "/v1/%65cho" matches "/v1/echo"
// while "%2F" or "%3A" (reserved: data, not delimiters) stay distinct.
// Variable values follow google/api/http.proto: single-segment variables are fully
// decoded; multi-segment ones are decoded "except %2F and %2f are left unchanged".

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const PCT = /%([0-9A-Fa-f]{2})/g;
const SLASH = /(%2[Ff])/;

function normalizeEscape(match: string, hex: string): string {
  const ch = String.fromCharCode(parseInt(hex, 16));
  return UNRESERVED.test(ch) ? ch : "%" + hex.toUpperCase();
}

/** Normalize a raw path segment (or verb) for literal comparison. */
export function normalizeSegment(raw: string): string {
  return raw.includes("%") ? raw.replace(PCT, normalizeEscape) : raw;
}

/** Decode a single-segment variable value; undefined if the escapes are malformed (or not UTF-8). */
export function decodeSingle(raw: string): string | undefined {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Decode a multi-segment variable value, keeping "%2F"/"%2f" as written. */
export function decodeMulti(raw: string): string | undefined {
  if (!raw.includes("%")) return raw;
  const parts = raw.split(SLASH);
  try {
    for (let i = 0; i < parts.length; i += 2) parts[i] = decodeURIComponent(parts[i] as string);
  } catch {
    return undefined;
  }
  return parts.join("");
}
