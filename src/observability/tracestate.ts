/**
 * `tracestate` pass-through, W3C Trace Context Level 1 §3.3:
 * https://www.w3.org/TR/trace-context/#tracestate-header
 * We never interpret vendor entries; we validate, bound and forward them.
 */

// §3.3.1.3.1 key: simple-key, or tenant-id "@" system-id.
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// §3.3.1.3.2 value: 1-256 printable ASCII chars except "," and "=", last one not a space.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export interface TracestateLimits {
  /** §3.3.1.1: at most 32 list-members; more makes the header invalid here. */
  maxMembers?: number;
  /** §3.3.1.5: vendors should propagate at least 512 chars; longer lists are truncated. */
  maxLength?: number;
}

export function isValidTracestateKey(key: string): boolean {
  return KEY.test(key);
}

export function isValidTracestateValue(value: string): boolean {
  return VALUE.test(value);
}

/**
 * Validates a (possibly multi-header, comma-joined) tracestate value and returns the
 * normalized list to forward, or undefined when it must be dropped (any invalid
 * member, duplicate keys, too many members). Empty members are allowed and skipped.
 */
export function parseTracestate(header: string | null | undefined, limits: TracestateLimits = {}): string | undefined {
  if (header == null) return undefined;
  const maxMembers = limits.maxMembers ?? 32;
  const maxLength = limits.maxLength ?? 512;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of header.split(",")) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    const eq = member.indexOf("=");
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
    if (members.length > maxMembers) return undefined;
  }
  if (members.length === 0) return undefined;
  return truncateTracestate(members, maxLength);
}

/**
 * §3.3.1.5 truncation: first drop entries longer than 128 chars (from the right),
 * then drop entries from the right until the joined list fits.
 */
function truncateTracestate(members: string[], maxLength: number): string | undefined {
  const joinedLength = () => members.reduce((n, m) => n + m.length, 0) + Math.max(0, members.length - 1);
  for (let i = members.length - 1; i >= 0 && joinedLength() > maxLength; i--) {
    if (members[i]!.length > 128) members.splice(i, 1);
  }
  while (members.length > 0 && joinedLength() > maxLength) members.pop();
  return members.length === 0 ? undefined : members.join(",");
}

/**
 * Sets our own entry: §3.3.1.3 says a modified or added key moves to the front (left).
 * Throws on an invalid key or value (they are ours, so that is a programming error).
 */
export function setTracestateEntry(state: string | undefined, key: string, value: string, limits: TracestateLimits = {}): string {
  if (!KEY.test(key) || !VALUE.test(value)) throw new TypeError(`invalid tracestate entry ${key}=${value}`);
  const rest = (state ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "" && !m.startsWith(key + "="));
  const maxMembers = limits.maxMembers ?? 32;
  const members = [`${key}=${value}`, ...rest].slice(0, maxMembers);
  return truncateTracestate(members, limits.maxLength ?? 512) ?? `${key}=${value}`;
}
