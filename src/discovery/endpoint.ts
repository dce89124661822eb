import type { ResolvedEndpoint } from "./types.ts";

/** A configured endpoint: "host:port", "[v6]:port", or an object with an optional weight. */
export type EndpointSpec = string | { readonly address: string; readonly port?: number; readonly weight?: number };

export interface ParsedSpec {
  /** IP literal (normalized) or host name still to resolve. */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly isIp: boolean;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The normalized literal if `host` is an IP address ("::0001" -> "::1"), else undefined. */
export function normalizeIp(host: string): string | undefined {
  if (IPV4.test(host)) return host;
  if (!host.includes(":")) return undefined;
  try {
    // The WHATWG URL parser implements RFC 5952-style canonical IPv6 text (URL Standard, "IPv6 serializer").
    const h = new URL(`http://[${host}]/`).hostname;
    return h.slice(1, -1);
  } catch {
    return undefined;
  }
}

export function endpointKey(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function parsePort(text: string | number, spec: string): number {
  const port = typeof text === "number" ? text : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`endpoint "${spec}": bad port "${text}"`);
  return port;
}

function splitHostPort(text: string, defaultPort: number | undefined): { host: string; port: number } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new RangeError(`endpoint "${text}": missing "]"`);
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === "" && defaultPort !== undefined) return { host, port: defaultPort };
    if (!rest.startsWith(":")) throw new RangeError(`endpoint "${text}": expected ":port" after "]"`);
    return { host, port: parsePort(rest.slice(1), text) };
  }
  const colons = text.split(":").length - 1;
  if (colons === 0) {
    if (defaultPort === undefined) throw new RangeError(`endpoint "${text}": missing port`);
    return { host: text, port: defaultPort };
  }
  if (colons > 1) {
    // A bare IPv6 literal: only valid with a separate port.
    if (defaultPort !== undefined && normalizeIp(text) !== undefined) return { host: text, port: defaultPort };
    throw new RangeError(`endpoint "${text}": write IPv6 addresses as "[addr]:port"`);
  }
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i), port: parsePort(text.slice(i + 1), text) };
}

export function parseWeight(weight: number | undefined, label: string): number {
  const w = weight ?? 1;
  if (!Number.isFinite(w) || w < 0) throw new RangeError(`endpoint "${label}": weight must be a finite number >= 0`);
  return w;
}

/** Parses one configured endpoint; throws RangeError naming the entry when it is malformed. */
export function parseEndpointSpec(spec: EndpointSpec, defaultPort?: number): ParsedSpec {
  const text = typeof spec === "string" ? spec.trim() : spec.address.trim();
  const label = typeof spec === "string" ? spec : spec.address;
  const explicitPort = typeof spec === "string" ? undefined : spec.port;
  const { host, port } =
    explicitPort !== undefined
      ? { host: text.replace(/^\[(.*)\]$/, "$1"), port: parsePort(explicitPort, label) }
      : splitHostPort(text, defaultPort);
  if (host === "") throw new RangeError(`endpoint "${label}": empty host`);
  const weight = parseWeight(typeof spec === "string" ? undefined : spec.weight, label);
  const ip = normalizeIp(host);
  return ip !== undefined ? { host: ip, port, weight, isIp: true } : { host: host.toLowerCase(), port, weight, isIp: false };
}

export function makeEndpoint(address: string, port: number, weight: number, hostname?: string): ResolvedEndpoint {
  const key = endpointKey(address, port);
  return Object.freeze(hostname === undefined ? { address, port, weight, key } : { address, port, weight, key, hostname });
}

/**
 * Sorted by key, one entry per key (the first wins), frozen. A stable order means a re-ordered
 * DNS answer is not a change.
 */
export function normalizeSet(endpoints: Iterable<ResolvedEndpoint>): readonly ResolvedEndpoint[] {
  const byKey = new Map<string, ResolvedEndpoint>();
  for (const e of endpoints) if (!byKey.has(e.key)) byKey.set(e.key, e);
  return Object.freeze([...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
}

/** Both sets normalized: equal members, weights and host names. */
export function sameSet(a: readonly ResolvedEndpoint[], b: readonly ResolvedEndpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.key !== y.key || x.weight !== y.weight || x.hostname !== y.hostname) return false;
  }
  return true;
}
