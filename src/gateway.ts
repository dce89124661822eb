// Composition root: config -> options -> objects; start, drain, stop.
import type { Config, UpstreamConfig } from "./config/index.ts";
import { GatewayError, GrpcCode, Reason } from "./core/index.ts";
import { createApp, type RouteLookup } from "./http/index.ts";
import { Invoker, UpstreamGroup, type RoutePolicy } from "./rpc/index.ts";
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
import { createGrpcConnection, type Connection, type EndpointAddress } from "./upstream/index.ts";

export interface GatewayOptions {
  readonly config: Config;
  readonly runtime: Runtime;
  /** Directory that relative descriptor paths are resolved against. */
  readonly baseDir?: string;
  /** Log sink; default console. */
  readonly log?: (line: Record<string, unknown>) => void;
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

function connectionFactory(u: UpstreamConfig, rt: Runtime): (a: EndpointAddress, id: number) => Connection {
  if (u.protocol === "grpc") {
    return (address, id) =>
      createGrpcConnection({
        id,
        address,
        openH2Session: rt.openH2Session,
        tls: u.tls ? { servername: u.tls.servername, ca: u.tls.ca, rejectUnauthorized: !u.tls.insecureSkipVerify } : undefined,
        connectTimeoutMs: u.connectTimeout,
        maxMessageBytes: u.maxMessageBytes,
        maxAgeMs: u.maxAge,
        keepalive: { intervalMs: u.keepalive.interval, timeoutMs: u.keepalive.timeout, onlyWithCalls: u.keepalive.onlyWithCalls },
      });
  }
  throw new Error(`upstream ${u.name}: protocol ${u.protocol} is not available in this build`);
}

function matchesService(pattern: string, service: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return service.startsWith(pattern.slice(0, -1));
  return pattern === service;
}

function matchesMethod(pattern: string, m: MethodInfo): boolean {
  const full = `${m.ref.service}/${m.ref.method}`;
  if (pattern === full) return true;
  if (pattern.endsWith("/*")) return pattern.slice(0, -2) === m.ref.service;
  return matchesService(pattern, m.ref.service) && !pattern.includes("/");
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

  const groups = new Map<string, UpstreamGroup>();
  for (const u of config.upstreams) {
    const ttMux = u.protocol === "ttheader" && u.mode === "mux";
    const pool = {
      minConnections: ttMux ? Math.max(u.pool.minConnections, u.muxConnections) : u.pool.minConnections,
      maxConnections: ttMux ? u.muxConnections : u.pool.maxConnections,
      maxConcurrentPerConnection: u.protocol === "ttheader" && u.mode === "pool" ? 1 : u.pool.maxConcurrentPerConnection,
      idleTimeoutMs: u.pool.idleTimeout,
      maxIdle: u.pool.maxIdle,
      queueSize: u.pool.queueSize,
      queueTimeoutMs: u.pool.queueTimeout,
    };
    const endpoints = u.endpoints.map((e) => (typeof e === "string" ? { address: parseEndpoint(e), weight: 1 } : { address: parseEndpoint(e.address), weight: e.weight }));
    groups.set(u.name, new UpstreamGroup({ name: u.name, protocol: u.protocol === "grpc" ? "grpc" : `ttheader-${u.mode}`, createConnection: connectionFactory(u, runtime), pool }, endpoints));
  }

  // Method -> (upstream, policy), computed once per method.
  const targets = new Map<string, { group: UpstreamGroup; policy: RoutePolicy } | null>();
  const target = (m: MethodInfo) => {
    let t = targets.get(m.ref.path);
    if (t === undefined) {
      const svc = config.services.find((s) => matchesService(s.match, m.ref.service));
      const group = svc ? groups.get(svc.upstream) : undefined;
      const route = config.routes.find((r) => matchesMethod(r.method, m));
      t = group
        ? {
            group,
            policy: {
              timeoutMs: route?.timeout ?? config.defaults.timeout,
              maxTimeoutMs: route?.maxTimeout ?? config.defaults.maxTimeout,
              onClientDisconnect: route?.onClientDisconnect ?? config.defaults.onClientDisconnect,
              idempotent: route?.idempotent ?? false,
              maxBodyBytes: route?.maxBodyBytes ?? config.limits.maxBodyBytes,
            },
          }
        : null;
      targets.set(m.ref.path, t);
    }
    return t ?? undefined;
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
    errorOptions: { decodeDetails: (bin) => decodeStatusDetails(registry, bin) },
    ready: () => ready,
    admin: { upstreams: () => ({ upstreams: [...groups.values()].map((g) => g.stats()) }) },
  });

  const server: ServerHandle = await runtime.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    fetch: (req) => app.fetch(req),
    maxRequestBodySize: Math.max(config.limits.maxBodyBytes, ...config.routes.map((r) => r.maxBodyBytes ?? 0)) + 1024,
  });
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
    },
  };
}

export { GatewayError, GrpcCode, Reason };
