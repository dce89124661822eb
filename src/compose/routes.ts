// Config -> per-method route policy (deadline, disconnect policy, idempotency, body limit, resilience).
import type { Config } from "../config/index.ts";
import { createRouteCallPolicy, type RoutePolicy } from "../rpc/index.ts";
import type { MethodInfo } from "../transcode/index.ts";
import type { BuiltUpstream } from "./upstreams.ts";

export function matchesService(pattern: string, service: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return service.startsWith(pattern.slice(0, -1));
  return pattern === service;
}

export function matchesMethod(pattern: string, m: MethodInfo): boolean {
  const full = `${m.ref.service}/${m.ref.method}`;
  if (pattern === full) return true;
  if (pattern.endsWith("/*")) return pattern.slice(0, -2) === m.ref.service;
  return !pattern.includes("/") && matchesService(pattern, m.ref.service);
}

export interface MethodTarget {
  readonly upstream: BuiltUpstream;
  readonly policy: RoutePolicy;
  /** Where the rate-limit key comes from: "ip", "header:<name>", "metadata:<name>" or "claim:<name>". */
  readonly rateLimitKey: string | undefined;
  /** Request body read bound (route's bodyReadTimeout, else limits.bodyReadTimeout). */
  readonly bodyReadTimeoutMs: number;
}

/** Resilience events for metrics. */
export interface PolicyHooks {
  retry?(e: { upstream: string; method: string }): void;
  hedge?(e: { upstream: string; method: string }): void;
}

/** MethodOptions.IdempotencyLevel (google/protobuf/descriptor.proto): NO_SIDE_EFFECTS = 1, IDEMPOTENT = 2. */
const IDEMPOTENCY_UNKNOWN = 0;

/**
 * Whether a method is safe to retry or hedge when no route sets `idempotent`: it is bound to HTTP GET
 * by google.api.http (GET is safe and idempotent, RFC 9110 §9.2.1-9.2.2) or declares
 * `option idempotency_level = NO_SIDE_EFFECTS | IDEMPOTENT` (the level gRPC clients use for the same
 * decision). `getBound` holds the "/pkg.Service/Method" paths of GET-bound methods.
 */
export function idempotentByDeclaration(m: MethodInfo, getBound: ReadonlySet<string>): boolean {
  return getBound.has(m.ref.path) || (m.desc.idempotency as number) !== IDEMPOTENCY_UNKNOWN;
}

/** Resolves (once per method) the upstream and policy serving a method; undefined if none does. */
export function createTargetResolver(
  config: Config,
  upstreams: ReadonlyMap<string, BuiltUpstream>,
  hooks: PolicyHooks = {},
  getBound: ReadonlySet<string> = new Set(),
): (m: MethodInfo) => MethodTarget | undefined {
  const cache = new Map<string, MethodTarget | null>();
  return (m) => {
    let t = cache.get(m.ref.path);
    if (t !== undefined) return t ?? undefined;
    // First match wins: a "pkg.Service/Method" entry listed first sends one method elsewhere (e.g. a Kitex
    // service's streaming methods over gRPC, its unary ones over TTHeader).
    const svc = config.services.find((s) => matchesMethod(s.match, m));
    const upstream = svc ? upstreams.get(svc.upstream) : undefined;
    const route = config.routes.find((r) => matchesMethod(r.method, m));
    if (!upstream) {
      cache.set(m.ref.path, null);
      return undefined;
    }
    const idempotent = route?.idempotent ?? idempotentByDeclaration(m, getBound);
    const needsPolicy = upstream.resilience.breaker || upstream.resilience.bulkhead || route?.retry || route?.hedge || route?.maxConcurrent || route?.rateLimit;
    const calls = needsPolicy
      ? createRouteCallPolicy(
          {
            name: `${m.ref.service}/${m.ref.method}`,
            retry: route?.retry && { maxAttempts: route.retry.maxAttempts, initialBackoffMs: route.retry.initialBackoff, maxBackoffMs: route.retry.maxBackoff, retryableCodes: route.retry.codes },
            hedge: route?.hedge && { delayMs: route.hedge.delay, percentile: route.hedge.percentile, maxHedges: route.hedge.maxHedges },
            maxConcurrent: route?.maxConcurrent,
            queueSize: route?.queueSize,
            queueTimeoutMs: route?.queueTimeout,
            rateLimit: route?.rateLimit && { ratePerSec: route.rateLimit.ratePerSec, burst: route.rateLimit.burst ?? Math.max(1, Math.ceil(route.rateLimit.ratePerSec)) },
          },
          upstream.resilience,
        )
      : undefined;
    if (calls && svc) {
      const labels = { upstream: svc.upstream, method: m.ref.path };
      calls.parts.retry?.onRetry.on(() => hooks.retry?.(labels));
      calls.parts.hedge?.onHedge.on(() => hooks.hedge?.(labels));
    }
    t = {
      upstream,
      rateLimitKey: route?.rateLimit?.key,
      bodyReadTimeoutMs: route?.bodyReadTimeout ?? config.limits.bodyReadTimeout,
      policy: {
        timeoutMs: route?.timeout ?? config.defaults.timeout,
        maxTimeoutMs: route?.maxTimeout ?? config.defaults.maxTimeout,
        onClientDisconnect: route?.onClientDisconnect ?? config.defaults.onClientDisconnect,
        streamOnClientDisconnect: route?.onClientDisconnect,
        idempotent,
        maxBodyBytes: route?.maxBodyBytes ?? config.limits.maxBodyBytes,
        calls,
      },
    };
    cache.set(m.ref.path, t);
    return t;
  };
}
