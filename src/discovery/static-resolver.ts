import type { BackoffOptions } from "../core/index.ts";
import { DnsResolver } from "./dns-resolver.ts";
import { makeEndpoint, parseEndpointSpec, type EndpointSpec } from "./endpoint.ts";
import { FixedResolver } from "./fixed-resolver.ts";
import { MergedResolver } from "./merged-resolver.ts";
import type { Timers } from "./timers.ts";
import type { LookupFn, Resolver } from "./types.ts";

export interface StaticResolverOptions {
  /** Needed only when an entry is a host name; each such name is resolved once. */
  readonly lookup?: LookupFn;
  /** Port for entries written without one. */
  readonly defaultPort?: number;
  /** Retry schedule while a host name has not resolved yet. */
  readonly backoff?: BackoffOptions;
  readonly lookupTimeoutMs?: number;
  readonly timers?: Timers;
  readonly random?: () => number;
  /** Name in stats. Default "static". */
  readonly name?: string;
}

/**
 * A configured list: IP literals are used as they are; host names are resolved once through
 * `lookup` (retried with back-off until they answer) and then keep their addresses. Every
 * endpoint is keyed by the resolved "ip:port". Throws RangeError on a malformed entry.
 */
export function createStaticResolver(entries: readonly EndpointSpec[], options: StaticResolverOptions = {}): Resolver {
  const name = options.name ?? "static";
  const fixed = [];
  const sources: Resolver[] = [];
  for (const entry of entries) {
    const p = parseEndpointSpec(entry, options.defaultPort);
    if (p.isIp) {
      fixed.push(makeEndpoint(p.host, p.port, p.weight));
      continue;
    }
    if (!options.lookup) throw new RangeError(`${name}: endpoint "${p.host}" is a host name but no lookup was given`);
    sources.push(
      new DnsResolver({
        host: p.host,
        port: p.port,
        weight: p.weight,
        lookup: options.lookup,
        refreshMs: Infinity,
        minRefreshMs: 0,
        ...(options.backoff && { backoff: options.backoff }),
        ...(options.lookupTimeoutMs !== undefined && { lookupTimeoutMs: options.lookupTimeoutMs }),
        ...(options.timers && { timers: options.timers }),
        ...(options.random && { random: options.random }),
      }),
    );
  }
  // Fixed entries first so an IP literal's weight wins over a host name resolving to the same key.
  return new MergedResolver([new FixedResolver(fixed, name), ...sources], name);
}
