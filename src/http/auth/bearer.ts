/** Bearer credentials and challenges, RFC 6750. */

export type BearerExtraction =
  | { kind: "none" }
  /** Credentials for another scheme (e.g. Basic): not ours, treated like no token. */
  | { kind: "other_scheme" }
  | { kind: "malformed" }
  | { kind: "token"; token: string };

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Accepts an Authorization header value ("Bearer <token>", scheme case-insensitive per
 * RFC 7235 §2.1) or a bare token.
 */
export function extractBearer(value: string | null | undefined): BearerExtraction {
  if (value == null) return { kind: "none" };
  const v = value.trim();
  if (v === "") return { kind: "none" };
  const sp = v.search(/[ \t]/);
  if (sp === -1) {
    if (v.toLowerCase() === "bearer") return { kind: "malformed" };
    return B64TOKEN.test(v) ? { kind: "token", token: v } : { kind: "malformed" };
  }
  if (v.slice(0, sp).toLowerCase() !== "bearer") return { kind: "other_scheme" };
  const token = v.slice(sp).trim();
  return B64TOKEN.test(token) ? { kind: "token", token } : { kind: "malformed" };
}

export interface ChallengeParams {
  realm?: string;
  error?: "invalid_request" | "invalid_token" | "insufficient_scope";
  description?: string;
  /** Scopes the resource needs (RFC 6750 §3, `scope` attribute). */
  scope?: readonly string[];
}

// RFC 6750 §3: error_description and realm chars are %x20-21 / %x23-5B / %x5D-7E (no '"' or '\').
function quotedSafe(s: string): string {
  return s.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
}
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
function scopeSafe(s: string): string {
  return s.replace(/[^\x21\x23-\x5b\x5d-\x7e]/g, "");
}

/** e.g. `Bearer realm="api", error="invalid_token", error_description="token expired"`. */
export function formatWwwAuthenticate(p: ChallengeParams): string {
  const attrs: string[] = [];
  if (p.realm !== undefined) attrs.push(`realm="${quotedSafe(p.realm)}"`);
  if (p.error !== undefined) attrs.push(`error="${p.error}"`);
  if (p.description !== undefined && p.description !== "") attrs.push(`error_description="${quotedSafe(p.description)}"`);
  if (p.scope !== undefined && p.scope.length > 0) {
    const scopes = p.scope.map(scopeSafe).filter((s) => s !== "");
    if (scopes.length > 0) attrs.push(`scope="${scopes.join(" ")}"`);
  }
  return attrs.length === 0 ? "Bearer" : `Bearer ${attrs.join(", ")}`;
}
