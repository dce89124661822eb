// DNS through node:dns, which Bun, Deno and Node all implement (resolve4/resolve6 with { ttl: true },
// Resolver with setServers and { timeout, tries }; verified on all three against a loopback server).
//
// Why not only dns.lookup (getaddrinfo): it returns no TTL, so discovery could only poll on a fixed
// interval. resolve4/resolve6 speak DNS and return each record's TTL, but skip what getaddrinfo adds
// (/etc/hosts, nsswitch, search domains on some runtimes): names they can't answer fall back to lookup.
import dns from "node:dns";
import net from "node:net";
import type { DnsQueryOptions, ResolvedAddress } from "../types.ts";

/** Per-try timeout and tries for DNS queries: a dead server costs ~3 s before the lookup fallback, not c-ares' default ~15 s. */
const QUERY = { timeout: 1_000, tries: 2 };

/**
 * A fresh resolver per lookup: Bun's c-ares keeps a query cache per Resolver (answers served until
 * their TTL runs out, TTL counting down), which would hide a changed answer for up to a one-hour TTL
 * although discovery asked again after its refresh interval. Node and Deno don't cache; a new channel
 * per lookup costs little at discovery's cadence (seconds).
 */
function resolverFor(servers: readonly string[] | undefined): dns.promises.Resolver {
  const r = new dns.promises.Resolver(QUERY);
  if (servers && servers.length > 0) r.setServers([...servers]);
  return r;
}

/** RFC 6761 §6.3: localhost names are answered locally and never sent to DNS. */
function isLocalhost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

async function systemLookup(host: string): Promise<ResolvedAddress[]> {
  const all = await dns.promises.lookup(host, { all: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

export async function resolveDns(host: string, options: DnsQueryOptions = {}): Promise<ResolvedAddress[]> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const ipFamily = net.isIP(bare);
  if (ipFamily !== 0) return [{ address: bare, family: ipFamily === 6 ? 6 : 4 }];
  const custom = options.servers !== undefined && options.servers.length > 0;
  if (!custom && isLocalhost(bare)) return systemLookup(bare);
  const r = resolverFor(options.servers);
  const [a, aaaa] = await Promise.allSettled([r.resolve4(bare, { ttl: true }), r.resolve6(bare, { ttl: true })]);
  const out: ResolvedAddress[] = [];
  if (a.status === "fulfilled") for (const x of a.value) out.push({ address: x.address, family: 4, ttl: x.ttl });
  if (aaaa.status === "fulfilled") for (const x of aaaa.value) out.push({ address: x.address, family: 6, ttl: x.ttl });
  if (out.length > 0) return out;
  // A missing family is NODATA (ENODATA on Node, ENOTFOUND on Bun); both missing: not a DNS name we can
  // see (hosts file, search list, mDNS...) or DNS is down. The system lookup has the last word, unless
  // the caller chose the servers: then their answer is the answer.
  if (custom) throw a.status === "rejected" ? a.reason : new Error(`no A/AAAA records for ${bare}`);
  return systemLookup(bare);
}
