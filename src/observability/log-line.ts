/**
 * The common log line built by hand: fields that are plain objects of primitive values (the access
 * log, most gateway logs) are written straight to JSON text, without the redactor's deep copy and a
 * JSON.stringify of a merged object. The text is exactly what that general path produces; whenever
 * it could differ (nested values, keys that JSON.stringify would reorder or that collide after the
 * time/level/msg renaming) these functions answer undefined and the caller takes the general path.
 */
import { REDACTED, type Redaction } from "./redact.ts";

/** Our own keys win; a field trying to reuse one is kept under "_" + key. */
export const RESERVED: ReadonlySet<string> = new Set(["time", "level", "msg"]);

export const REDACTED_JSON = JSON.stringify(REDACTED);
// A string without these needs neither JSON escaping (quote, backslash, control characters; lone
// surrogates, which well-formed JSON.stringify escapes) nor masking: a bearer/basic credential needs
// whitespace after the scheme, and a JWT needs "eyJ" (checked apart). Ids, paths, routes and codes pass.
const NEEDS_CARE = /["\\\s\u0000-\u001f\ud800-\udfff]/;
const KEY_CACHE_MAX = 512;

/**
 * `,"key":` for a field key, or null when the key needs the general path: a reserved key (renamed,
 * may collide), "__proto__" (an assignment would set the prototype), or a key starting with a digit
 * (JSON.stringify writes array-index keys first, before "time").
 */
export function createKeyPrefixes(): (key: string) => string | null {
  const cache = new Map<string, string | null>();
  return (key) => {
    let p = cache.get(key);
    if (p === undefined) {
      const c = key.charCodeAt(0);
      p = RESERVED.has(key) || key === "__proto__" || (c >= 0x30 && c <= 0x39) ? null : `,${JSON.stringify(key)}:`;
      if (cache.size < KEY_CACHE_MAX) cache.set(key, p);
    }
    return p;
  };
}

/**
 * A field value as JSON text, redacted like the redactor would at depth 1 (strings masked, bigints
 * as strings); undefined when the field is left out (undefined, functions, symbols); null when the
 * value is an object or array (the general path handles those).
 */
export function valueJson(v: unknown, redaction: Redaction): string | undefined | null {
  switch (typeof v) {
    case "string":
      return NEEDS_CARE.test(v) || (v.length >= 8 && v.includes("eyJ")) ? JSON.stringify(redaction.maskString(v)) : `"${v}"`;
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return `"${v.toString()}"`;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return v === null ? "null" : null;
  }
}

/**
 * The fields as JSON members (each with its leading comma), redacted like the redactor would at
 * depth 1: secret keys become "[REDACTED]", the rest as valueJson. Undefined when a value is an
 * object (or array) or a key needs the general path, or collides with a key in `taken` (the
 * logger's bound fields).
 */
export function fieldsJson(
  fields: Readonly<Record<string, unknown>>,
  redaction: Redaction,
  prefixOf: (key: string) => string | null,
  taken: ReadonlySet<string> | undefined,
): string | undefined {
  const proto: unknown = Object.getPrototypeOf(fields);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(fields);
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const prefix = prefixOf(k);
    if (prefix === null || (taken !== undefined && taken.has(k))) return undefined;
    if (redaction.isSecretKey(k)) {
      out += prefix + REDACTED_JSON;
      continue;
    }
    const j = valueJson(fields[k], redaction);
    if (j === null) return undefined;
    if (j !== undefined) out += prefix + j;
  }
  return out;
}

/**
 * For a fixed list of field keys: each key's `,"key":` prefix and whether its value is redacted;
 * undefined when some key needs the general path (see createKeyPrefixes; a bound key; a key listed twice).
 */
export function keyPlan(keys: readonly string[], redaction: Redaction, prefixOf: (key: string) => string | null, taken: ReadonlySet<string>): { readonly prefixes: readonly string[]; readonly secret: readonly boolean[] } | undefined {
  if (new Set(keys).size !== keys.length) return undefined;
  const prefixes: string[] = [];
  const secret: boolean[] = [];
  for (const k of keys) {
    const p = prefixOf(k);
    if (p === null || taken.has(k)) return undefined;
    prefixes.push(p);
    secret.push(redaction.isSecretKey(k));
  }
  return { prefixes, secret };
}

/**
 * Bound (child logger) fields as JSON members and their keys after renaming; undefined when they
 * need the general path (a key starting with a digit would be written before "time").
 */
export function boundJson(bound: Readonly<Record<string, unknown>>): { readonly json: string; readonly keys: ReadonlySet<string> } | undefined {
  const renamed: Record<string, unknown> = {};
  for (const k in bound) renamed[RESERVED.has(k) ? `_${k}` : k] = bound[k];
  const keys = Object.keys(renamed);
  for (const k of keys) {
    const c = k.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return undefined;
  }
  let text: string;
  try {
    text = JSON.stringify(renamed);
  } catch {
    return undefined;
  }
  return { json: text === "{}" ? "" : `,${text.slice(1, -1)}`, keys: new Set(keys) };
}
