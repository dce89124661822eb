// Which request headers become upstream metadata: an allow-list (exact names or "prefix*"), minus
// hop-by-hop headers, minus names the gateway sets itself or that would impersonate them.

/** RFC 9110 §7.6.1 connection-specific fields, plus the obsolete ones proxies still see. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Never forwarded from the client, whatever the allow-list says: the gateway sets these itself
 * (trace context with our own span id, request id), or they belong to the upstream protocol
 * (gRPC reserves "grpc-*" and the transport headers; "-bin" keys are binary).
 */
const GATEWAY_OWNED = new Set(["traceparent", "tracestate", "x-request-id", "content-type", "content-length", "host", "user-agent"]);

function protocolOwned(name: string): boolean {
  return name.startsWith("grpc-") || name.startsWith(":") || name.endsWith("-bin");
}

export interface HeaderPolicyOptions {
  /** Lower-case names; a trailing "*" makes a prefix ("x-tenant-*"). */
  readonly forward: readonly string[];
  /** Names reserved by another feature (e.g. forwarded JWT claims): dropped when a client sends them. */
  readonly reserved?: (name: string) => boolean;
}

export interface HeaderPolicy {
  /** Upstream metadata for a request: allowed client headers, then `own` (which wins). */
  metadata(headers: Headers, own: Readonly<Record<string, string>>): Record<string, string>;
  /** Whether a client header may be forwarded (after the Connection header's own list is applied). */
  allows(name: string): boolean;
}

export function createHeaderPolicy(o: HeaderPolicyOptions): HeaderPolicy {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const raw of o.forward) {
    const n = raw.toLowerCase();
    if (n.endsWith("*")) prefixes.push(n.slice(0, -1));
    else exact.add(n);
  }
  const reserved = o.reserved ?? (() => false);
  const listed = (n: string) => exact.has(n) || prefixes.some((p) => n.startsWith(p));
  const allows = (n: string) => listed(n) && !HOP_BY_HOP.has(n) && !GATEWAY_OWNED.has(n) && !protocolOwned(n) && !reserved(n);
  const nothingListed = exact.size === 0 && prefixes.length === 0;

  return {
    allows,
    metadata(headers, own) {
      const md: Record<string, string> = {};
      if (!nothingListed) {
        // Headers named in Connection are hop-by-hop for this request too (RFC 9110 §7.6.1).
        const connection = headers.get("connection");
        const dropped = connection ? new Set(connection.split(",").map((s) => s.trim().toLowerCase())) : undefined;
        headers.forEach((value, name) => {
          if (allows(name) && !dropped?.has(name)) md[name] = value;
        });
      }
      for (const k in own) md[k] = own[k]!;
      return md;
    },
  };
}
