/** Per-route claim and scope checks on an already verified token. */
import type { AuthRequirement, ClaimMatch, JwtClaims } from "./types.ts";

/**
 * A claim by name: the literal key first (names may contain dots, e.g. URIs),
 * then a dotted path into nested objects ("realm_access.roles").
 */
export function readClaim(claims: JwtClaims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes(".")) return undefined;
  let cur: unknown = claims;
  for (const part of name.split(".")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function equalsOrContains(value: unknown, expected: string | number | boolean): boolean {
  if (Array.isArray(value)) return value.some((v) => v === expected);
  return value === expected;
}

export function claimMatches(value: unknown, match: ClaimMatch): boolean {
  if (value === undefined || value === null) return false;
  if (typeof match === "object" && !Array.isArray(match)) return true; // { exists: true }
  if (Array.isArray(match)) return match.some((m) => equalsOrContains(value, m));
  return equalsOrContains(value, match as string | number | boolean);
}

/** Scopes granted: OAuth "scope" (RFC 8693 §4.2, space-separated) and "scp" (array or string). */
export function tokenScopes(claims: JwtClaims): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string") for (const s of v.split(" ")) if (s !== "") out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === "string" && s !== "") out.add(s);
  };
  add(claims["scope"]);
  add(claims["scp"]);
  return out;
}

export type RequirementCheck =
  | { ok: true }
  | { ok: false; kind: "claim"; claim: string }
  | { ok: false; kind: "scope"; missing: string[] };

export function checkRequirement(claims: JwtClaims, req: AuthRequirement): RequirementCheck {
  if (req.claims !== undefined) {
    for (const [name, match] of Object.entries(req.claims)) {
      if (!claimMatches(readClaim(claims, name), match)) return { ok: false, kind: "claim", claim: name };
    }
  }
  if (req.scopes !== undefined && req.scopes.length > 0) {
    const granted = tokenScopes(claims);
    const missing = req.scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) return { ok: false, kind: "scope", missing };
  }
  return { ok: true };
}
