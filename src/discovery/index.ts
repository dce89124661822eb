export type {
  LookupAddress, LookupFn, ResolvedEndpoint, Resolver, ResolverErrorEvent, ResolverErrorKind, ResolverStats,
} from "./types.ts";
export { endpointKey, normalizeIp, parseEndpointSpec, type EndpointSpec, type ParsedSpec } from "./endpoint.ts";
export { systemTimers, type Timers } from "./timers.ts";
export { DnsResolver, type DnsResolverOptions } from "./dns-resolver.ts";
export { FixedResolver } from "./fixed-resolver.ts";
export { MergedResolver } from "./merged-resolver.ts";
export { createStaticResolver, type StaticResolverOptions } from "./static-resolver.ts";
