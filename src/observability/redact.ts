/**
 * Secret redaction for structured log fields. Keys are matched against a list
 * (strings: whole key, case-insensitive, "-" and "_" equivalent; RegExps: tested
 * as is); string values shaped like bearer credentials or JWTs are masked anywhere.
 */

export const REDACTED = "[REDACTED]";

export type KeyMatcher = string | RegExp;

export const DEFAULT_REDACT_KEYS: readonly KeyMatcher[] = Object.freeze([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "apikey",
  "password",
  "passwd",
  "secret",
  "client-secret",
  "token",
  "access-token",
  "refresh-token",
  "id-token",
  "private-key",
  // Any key ending in a credential-ish word: "upstreamToken", "db_password", "hmacSecret".
  /(?:token|secret|password|passwd|apikey|api[-_]key|private[-_]?key|credentials?)$/i,
]);

// JWS compact serialization (three base64url parts, header starting {"...) and bearer credentials.
const JWT_SHAPE = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

function normalizeKey(k: string): string {
  return k.toLowerCase().replace(/_/g, "-");
}

export interface RedactOptions {
  keys?: readonly KeyMatcher[];
  /** Mask JWT-shaped and "Bearer x"/"Basic x" substrings in string values. Default true. */
  maskValues?: boolean;
  /** Nested objects deeper than this are replaced by "[Depth]". Default 8. */
  maxDepth?: number;
}

export type Redactor = (value: unknown) => unknown;

/** The pieces of one redaction setup: the deep copy, and its key and string rules for fast paths. */
export interface Redaction {
  /** A JSON-safe, redacted deep copy of a value. */
  readonly redact: Redactor;
  /** Whether values under this key are replaced by REDACTED. */
  readonly isSecretKey: (key: string) => boolean;
  /** A string value with JWT-shaped and bearer/basic credentials masked. */
  readonly maskString: (s: string) => string;
}

/** Builds a function returning a JSON-safe, redacted deep copy of a value. */
export function createRedactor(options: RedactOptions = {}): Redactor {
  return createRedaction(options).redact;
}

// Key decisions are cached: field keys come from a small fixed set in code (access log, gateway
// logs), so after warm-up a key costs one Map lookup instead of normalizing and testing patterns.
// Bounded because keys can also come from data (header names in a logged Headers object).
const KEY_CACHE_MAX = 512;

export function createRedaction(options: RedactOptions = {}): Redaction {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const k of options.keys ?? DEFAULT_REDACT_KEYS) {
    if (typeof k === "string") exact.add(normalizeKey(k));
    else patterns.push(k);
  }
  const maskValues = options.maskValues ?? true;
  const maxDepth = options.maxDepth ?? 8;

  const keyCache = new Map<string, boolean>();
  const testKey = (k: string): boolean => {
    if (exact.has(normalizeKey(k))) return true;
    for (const p of patterns) {
      p.lastIndex = 0;
      if (p.test(k)) return true;
    }
    return false;
  };
  const secretKey = (k: string): boolean => {
    const cached = keyCache.get(k);
    if (cached !== undefined) return cached;
    const r = testKey(k);
    if (keyCache.size < KEY_CACHE_MAX) keyCache.set(k, r);
    return r;
  };

  const maskString = (s: string): string => {
    if (!maskValues || s.length < 8) return s;
    // JWT_SHAPE needs a literal "eyJ": skip that scan (and its copy) for the usual string without one.
    const t = s.includes("eyJ") ? s.replace(JWT_SHAPE, REDACTED) : s;
    return t.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  };

  const walk = (v: unknown, depth: number, seen: WeakSet<object>): unknown => {
    switch (typeof v) {
      case "string":
        return maskString(v);
      case "number":
      case "boolean":
        return v;
      case "bigint":
        return v.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
    }
    if (v === null) return null;
    const obj = v as object;
    if (seen.has(obj)) return "[Circular]";
    if (depth >= maxDepth) return "[Depth]";
    seen.add(obj);
    try {
      if (obj instanceof Error) return errorFields(obj, (x) => walk(x, depth + 1, seen));
      if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
      if (obj instanceof Uint8Array) return `[${obj.byteLength} bytes]`;
      if (Array.isArray(obj)) return obj.map((x) => walk(x, depth + 1, seen));
      // Headers and Maps: iterate entries so header names are checked like keys.
      const entries: Iterable<[unknown, unknown]> =
        obj instanceof Headers || obj instanceof Map ? (obj as Map<unknown, unknown>).entries() : Object.entries(obj);
      const out: Record<string, unknown> = {};
      for (const [k, x] of entries) {
        const key = String(k);
        out[key] = secretKey(key) ? REDACTED : walk(x, depth + 1, seen);
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };

  return { redact: (value) => walk(value, 0, new WeakSet()), isSecretKey: secretKey, maskString };
}

function errorFields(e: Error, walk: (v: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: walk(e.message) };
  // Stable machine fields used across the codebase (GatewayError.reason/code, node's err.code).
  for (const k of ["reason", "code"] as const) {
    const v = (e as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = walk(v);
  }
  if (e.stack !== undefined) out["stack"] = walk(e.stack);
  if (e.cause !== undefined) out["cause"] = walk(e.cause);
  return out;
}
