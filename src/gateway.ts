// Composition root: config -> options -> objects; start, drain, stop.
import type { Config, UpstreamConfig } from "./config/index.ts";
import { GatewayError, GrpcCode, Reason } from "./core/index.ts";
import { createApp, type RouteLookup } from "./http/index.ts";
import { buildUpstream, createTargetResolver, type BuiltUpstream, type UpstreamFactories } from "./compose/index.ts";
import { Invoker, type UpstreamGroup } from "./rpc/index.ts";
import type { Runtime, ServerHandle } from "./runtime/index.ts";
import {
  bindRequest,
  createHttpRouter,
  createJsonCodec,
  decodeStatusDetails,
  indexMethods,
  loadHttpRoutes,
  registryFromDescriptorSets,
  selectResponseBody,
  type MethodInfo,
} from "./transcode/index.ts";
import type { EndpointAddress } from "./upstream/index.ts";

export interface GatewayOptions {
  readonly config: Config;
  readonly runtime: Runtime;
  /** Directory that relative descriptor paths are resolved against. */
  readonly baseDir?: string;
  /** Log sink; default console. */
  readonly log?: (line: Record<string, unknown>) => void;
  /** DNS lookup override (tests); default the runtime's. */
  readonly lookup?: UpstreamFactories["lookup"];
  /** Extra upstream protocols (connection factories by protocol key). */
  readonly protocols?: UpstreamFactories["protocols"];
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly invoker: Invoker;
  readonly groups: ReadonlyMap<string, UpstreamGroup>;
  /** Stop accepting, let in-flight requests finish, close upstream connections. */
  stop(): Promise<void>;
}

export function parseEndpoint(s: string): EndpointAddress {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new Error(`bad endpoint "${s}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

function resolvePath(base: string | undefined, p: string): string {
  if (p.startsWith("/") || !base) return p;
  return `${base.replace(/\/$/, "")}/${p}`;
}

/** google.api.http routes; invalid annotations and conflicting routes stop start-up. */
function createRouteLookup(registry: Parameters<typeof loadHttpRoutes>[0], methods: ReadonlyMap<string, MethodInfo>): (m: string, url: URL) => RouteLookup {
  const loaded = loadHttpRoutes(registry);
  const router = createHttpRouter(loaded.items);
  const problems = [...loaded.errors.map((e) => e.message), ...router.conflicts.map((c) => c.message)];
  if (problems.length > 0) throw new Error(`invalid google.api.http routes:\n  ${problems.join("\n  ")}`);
  return (httpMethod, url) => {
    const r = router.lookup(httpMethod, url.pathname);
    switch (r.kind) {
      case "match": {
        const route = r.route;
        const method = methods.get(`/${route.rpc.parent.typeName}/${route.rpc.name}`)!;
        return {
          kind: "match",
          match: {
            method,
            bind: (body) => {
              const b = bindRequest(route, r.params, url.searchParams, body);
              if (!b.ok) throw b.error;
              return b.value;
            },
            selectResponse: route.responseBodyField ? (json) => selectResponseBody(route, json) : undefined,
          },
        };
      }
      case "method_not_allowed":
        return { kind: "method_not_allowed", allowed: r.allow };
      case "bad_path":
        throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badField, message: r.message });
      default:
        return { kind: "none" };
    }
  };
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { config, runtime } = o;
  const sets = await Promise.all(config.descriptors.map((p) => runtime.readFile(resolvePath(o.baseDir, p))));
  const registry = registryFromDescriptorSets(sets);
  const methods = indexMethods(registry);
  const codec = createJsonCodec(registry, config.json);

  const upstreams = new Map<string, BuiltUpstream>();
  for (const u of config.upstreams) upstreams.set(u.name, buildUpstream(u, { runtime, lookup: o.lookup, protocols: o.protocols }));
  const groups = new Map<string, UpstreamGroup>([...upstreams].map(([k, v]) => [k, v.group]));
  const resolveTarget = createTargetResolver(config, upstreams);
  const target = (m: MethodInfo) => {
    const t = resolveTarget(m);
    return t && { group: t.upstream.group, policy: t.policy, rateLimitKey: t.rateLimitKey };
  };

  const invoker = new Invoker();
  let ready = false;
  const lookupRoute = createRouteLookup(registry, methods);
  const app = createApp({
    codec,
    invoker,
    methods,
    lookupRoute,
    target,
    forwardHeaders: ["traceparent", "tracestate", "x-request-id"],
    errorOptions: { decodeDetails: (bin) => decodeStatusDetails(registry, bin), bizErrorStatus: config.businessErrorStatus },
    ready: () => ready,
    admin: {
      upstreams: () => ({
        upstreams: [...upstreams.values()].map((u) => ({ ...u.group.stats(), breaker: u.resilience.breaker?.stats(), bulkhead: u.resilience.bulkhead?.stats(), retryBudget: u.resilience.budget.stats() })),
      }),
    },
  });

  const server: ServerHandle = await runtime.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    fetch: (req, info) => app.fetch(req, info),
    maxRequestBodySize: Math.max(config.limits.maxBodyBytes, ...config.routes.map((r) => r.maxBodyBytes ?? 0)) + 1024,
  });
  // Ready once discovery answered and warm-up connections are open (or failed).
  await Promise.all([...groups.values()].map((g) => g.warmUp()));
  ready = true;
  const host = server.hostname === "0.0.0.0" || server.hostname === "::" ? "127.0.0.1" : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port,
    invoker,
    groups,
    stop: async () => {
      ready = false;
      await server.stop(false);
      for (const g of groups.values()) g.drain();
      for (const g of groups.values()) g.destroy();
    },
  };
}

export { GatewayError, GrpcCode, Reason };
