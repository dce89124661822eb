// Composition root: config -> options -> objects; start, drain, stop.
import type { Config } from "./config/index.ts";
import { GatewayError, GrpcCode, Reason } from "./core/index.ts";
import { buildUpstream, createTargetResolver, loadUpstreamTls, matchesMethod, type BuiltUpstream, type UpstreamFactories } from "./compose/index.ts";
import {
  corsOptions,
  createApp,
  createEdgeDeps,
  createEdgeTelemetry,
  InFlight,
  type EdgeTelemetry,
  type GatewayMetrics,
  type RouteLookup,
  type VerifierHandle,
} from "./http/index.ts";
import type { Logger } from "./observability/index.ts";
import { Invoker, type UpstreamGroup } from "./rpc/index.ts";
import type { Runtime, ServerHandle } from "./runtime/index.ts";
import {
  bindRequest,
  createHttpRouter,
  createJsonCodec,
  decodeStatusDetails,
  indexMethods,
  loadHttpRoutes,
  readHttpRules,
  registryFromDescriptorSets,
  selectResponseBody,
  type MethodInfo,
} from "./transcode/index.ts";

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
  /** Gateway and access logs; default: JSON lines on stdout at config.logging.level. */
  readonly logger?: Logger;
}

/** What a reload changed; upstream names. */
export interface ReloadSummary {
  /** Same config: the same UpstreamGroup (and its pooled connections) keeps serving. */
  readonly reused: readonly string[];
  readonly added: readonly string[];
  /** Config changed: a new group serves; the old one drains. */
  readonly replaced: readonly string[];
  readonly removed: readonly string[];
  /** Sections that changed but only take effect after a restart. */
  readonly restartNeeded: readonly string[];
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly invoker: Invoker;
  /** The groups of the running config. */
  readonly groups: ReadonlyMap<string, UpstreamGroup>;
  /** The running config (changes on reload). */
  readonly config: Config;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Requests being served (response bodies included). */
  readonly inFlight: number;
  /** /readyz answers 503 from now on; requests are still served. */
  markDraining(): void;
  /**
   * Swaps routes, upstreams and auth to `config` atomically: requests in flight finish on what they
   * started with; unchanged upstream groups are kept with their connections; removed and replaced
   * ones drain once the old config's requests are done. Rejects (and the old config keeps running)
   * when the new one cannot be built.
   */
  reload(config: Config): Promise<ReloadSummary>;
  /**
   * Stop accepting, let in-flight requests finish (at most timeoutMs, default config.shutdown.timeout;
   * then they are cut), close upstream connections, flush spans.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
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

/** One config's worth of objects: routes, upstream groups, auth, the app. Swapped whole on reload. */
interface Generation {
  readonly config: Config;
  readonly app: { fetch(req: Request, env?: { remoteAddress: string }): Response | Promise<Response> };
  readonly upstreams: Map<string, BuiltUpstream>;
  readonly groups: Map<string, UpstreamGroup>;
  /** Upstream name -> its config as JSON: equal JSON means the group can be kept. */
  readonly upstreamKeys: Map<string, string>;
  readonly verifier: VerifierHandle | undefined;
  /** Requests that started on this generation. */
  readonly inFlight: InFlight;
}

/** Process-wide: lives across reloads. */
interface Shared {
  readonly invoker: Invoker;
  readonly telemetry: EdgeTelemetry;
  readonly inFlight: InFlight;
  readonly ready: () => boolean;
  readonly draining: () => boolean;
  /** Group -> its telemetry unsubscribe. */
  readonly observed: Map<UpstreamGroup, () => void>;
}

async function buildGeneration(o: GatewayOptions, config: Config, shared: Shared, previous: Generation | undefined, created: UpstreamGroup[]): Promise<Generation> {
  const { runtime } = o;
  const sets = await Promise.all(config.descriptors.map((p) => runtime.readFile(resolvePath(o.baseDir, p))));
  // TLS files are read again for every new connection (renewed certificates apply without a restart), but a
  // missing or wrong file must fail start-up and refuse a reload, not surface later as 503s.
  await Promise.all(config.upstreams.map((u) => (u.tls ? loadUpstreamTls(u.name, u.tls, (p) => runtime.readTextFile(p)) : undefined)));
  const registry = registryFromDescriptorSets(sets);
  const methods = indexMethods(registry);
  const codec = createJsonCodec(registry, config.json);

  const upstreams = new Map<string, BuiltUpstream>();
  const upstreamKeys = new Map(config.upstreams.map((u) => [u.name, JSON.stringify(u)]));
  for (const u of config.upstreams) {
    // Same config: keep the group (and its pooled connections) across a reload.
    const kept = previous?.upstreamKeys.get(u.name) === upstreamKeys.get(u.name) ? previous?.upstreams.get(u.name) : undefined;
    if (kept) {
      upstreams.set(u.name, kept);
      continue;
    }
    // Its breaker shows in the metrics once this generation is the running one (read at scrape time).
    const built = buildUpstream(u, { runtime, lookup: o.lookup, protocols: o.protocols });
    upstreams.set(u.name, built);
    created.push(built.group);
  }
  const groups = new Map<string, UpstreamGroup>([...upstreams].map(([k, v]) => [k, v.group]));
  const metrics = shared.telemetry.metrics;
  // Methods bound to HTTP GET are idempotent unless a route says otherwise (retries, hedging).
  const getBound = new Set(readHttpRules(registry).items.filter((r) => r.spec.httpMethod === "GET").map((r) => `/${r.rpc.parent.typeName}/${r.rpc.name}`));
  const resolveTarget = createTargetResolver(config, upstreams, { retry: (e) => metrics.retry(e), hedge: (e) => metrics.hedge(e) }, getBound);
  const target = (m: MethodInfo) => {
    const t = resolveTarget(m);
    return t && { group: t.upstream.group, policy: t.policy, rateLimitKey: t.rateLimitKey, bodyReadTimeoutMs: t.bodyReadTimeoutMs };
  };

  const lookupRoute = createRouteLookup(registry, methods);
  const headers = withHashHeaders(config);
  const edge = await createEdgeDeps({
    auth: config.auth,
    routes: config.routes,
    headers,
    sampleRatio: config.tracing.sampleRatio,
    matches: matchesMethod,
    secrets: { env: (n) => runtime.env(n), readTextFile: (p) => runtime.readTextFile(resolvePath(o.baseDir, p)) },
    previous: previous?.verifier,
    observer: shared.telemetry.observer,
    inFlight: shared.inFlight,
    draining: shared.draining,
  });
  const app = createApp({
    codec,
    invoker: shared.invoker,
    methods,
    lookupRoute,
    target,
    forwardHeaders: headers.forward,
    errorOptions: { decodeDetails: (bin) => decodeStatusDetails(registry, bin), bizErrorStatus: config.businessErrorStatus },
    compression: {
      enabled: config.compression.enabled,
      thresholdBytes: config.compression.threshold,
      ...(config.compression.streams ? { stream: runtime.streamCompressors } : {}),
    },
    ready: shared.ready,
    admin: {
      upstreams: () => ({
        upstreams: [...upstreams.values()].map((u) => ({ ...u.group.stats(), breaker: u.resilience.breaker?.stats(), bulkhead: u.resilience.bulkhead?.stats(), retryBudget: u.resilience.budget.stats() })),
      }),
      ...(config.metrics.enabled ? { metrics: () => shared.telemetry.metrics.render() } : {}),
    },
    edge: edge.deps,
    ...(config.cors ? { cors: corsOptions(config.cors) } : {}),
  });
  for (const g of created) shared.observed.set(g, shared.telemetry.observeGroup(g));
  return { config, app, upstreams, groups, upstreamKeys, verifier: edge.verifier, inFlight: edge.inFlight };
}

/**
 * The balancer reads a ring_hash key from the call's upstream metadata, which holds only forwarded headers:
 * an upstream's `hashHeader` is forwarded too, or consistent hashing silently degrades to random picks.
 */
function withHashHeaders(config: Config): Config["headers"] {
  const extra = config.upstreams.flatMap((u) => (u.balancer === "ring_hash" && u.hashHeader && !config.headers.forward.includes(u.hashHeader) ? [u.hashHeader] : []));
  return extra.length === 0 ? config.headers : { ...config.headers, forward: [...config.headers.forward, ...new Set(extra)] };
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { runtime } = o;
  let config = o.config;
  let warmedUp = false;
  let draining = false;
  let current: Generation;
  /** Removed or replaced groups still finishing their calls (for metrics until they are empty). */
  const retiring = new Set<UpstreamGroup>();
  const invoker = new Invoker();
  const telemetry = createEdgeTelemetry({
    logging: config.logging,
    tracing: config.tracing,
    ...(o.logger ? { logger: o.logger } : {}),
    invoker,
    // Read at scrape time only, when `current` is set.
    groups: () => [...current.groups.values(), ...retiring].map((g) => g.stats()),
    ready: () => warmedUp && !draining,
    memoryRss: () => runtime.memoryRss(),
    // The running config's breakers only: not a removed or replaced upstream's, nor those of a refused reload.
    breakers: () => [...current.upstreams].flatMap(([name, u]) => (u.resilience.breaker ? [{ name, state: u.resilience.breaker.state }] : [])),
  });
  const log = telemetry.logger;
  const shared: Shared = { invoker, telemetry, inFlight: new InFlight(), ready: () => warmedUp && !draining, draining: () => draining, observed: new Map() };
  const first: UpstreamGroup[] = [];
  try {
    current = await buildGeneration(o, config, shared, undefined, first);
  } catch (e) {
    for (const g of first) g.destroy();
    await telemetry.close();
    throw e;
  }

  const server: ServerHandle = await runtime.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    fetch: (req, info) => current.app.fetch(req, info),
    // The app enforces body limits per route (413 before reading, cut-off while reading); the server's
    // own cap only has to stay out of the way of long NDJSON client streams.
    maxRequestBodySize: Math.max(1024 ** 3, Math.max(config.limits.maxBodyBytes, ...config.routes.map((r) => r.maxBodyBytes ?? 0)) + 1024),
  });
  // Ready once discovery answered and warm-up connections are open (or failed).
  await Promise.all([...current.groups.values()].map((g) => g.warmUp()));
  warmedUp = true;
  const host = server.hostname === "0.0.0.0" || server.hostname === "::" ? "127.0.0.1" : server.hostname;
  const bodyCap = (c: Config) => Math.max(c.limits.maxBodyBytes, ...c.routes.map((r) => r.maxBodyBytes ?? 0));
  log.info("gateway started", { url: `http://${host}:${server.port}`, upstreams: config.upstreams.map((u) => u.name), auth: config.auth !== undefined });

  /** Drains groups the running config no longer uses, once the requests of the config that used them are done. */
  const retire = (groups: UpstreamGroup[], old: Generation) => {
    if (groups.length === 0) return;
    for (const g of groups) retiring.add(g);
    void old.inFlight.idle(config.shutdown.timeout).then(() => {
      for (const g of groups) g.drain();
      // Kept in metrics until its last connection closed, then forgotten.
      const sweep = setInterval(() => {
        for (const g of groups) {
          if (!retiring.has(g) || !groupEmpty(g)) continue;
          retiring.delete(g);
          shared.observed.get(g)?.();
          shared.observed.delete(g);
        }
        if (groups.every((g) => !retiring.has(g))) clearInterval(sweep);
      }, 1000);
      (sweep as { unref?: () => void }).unref?.();
    });
  };

  let reloading: Promise<unknown> = Promise.resolve();
  const reload = async (next: Config): Promise<ReloadSummary> => {
    const old = current;
    const created: UpstreamGroup[] = [];
    let g: Generation;
    try {
      if (stopping) throw new Error("the gateway is stopping");
      g = await buildGeneration(o, next, shared, old, created);
      await Promise.all(created.map((x) => x.warmUp()));
    } catch (e) {
      for (const x of created) {
        shared.observed.get(x)?.();
        shared.observed.delete(x);
        x.destroy();
      }
      telemetry.metrics.reloaded(false);
      throw e;
    }
    current = g;
    config = next;
    telemetry.metrics.reloaded(true);
    const kept = new Set(g.groups.values());
    const dropped = [...old.groups.values()].filter((x) => !kept.has(x));
    retire(dropped, old);
    const restartNeeded: string[] = (["listen", "metrics", "tracing", "logging", "reload"] as const).filter((k) => JSON.stringify(old.config[k]) !== JSON.stringify(next[k]));
    // The server's own body cap was fixed at start-up.
    if (bodyCap(next) + 1024 > Math.max(1024 ** 3, bodyCap(old.config) + 1024)) restartNeeded.push("limits");
    return {
      reused: [...g.groups].filter(([, x]) => !created.includes(x)).map(([n]) => n),
      added: [...g.groups.keys()].filter((n) => !old.groups.has(n)),
      replaced: [...g.groups.keys()].filter((n) => old.groups.has(n) && old.groups.get(n) !== g.groups.get(n)),
      removed: [...old.groups.keys()].filter((n) => !g.groups.has(n)),
      restartNeeded,
    };
  };

  let stopping: Promise<void> | undefined;
  const stop = async (timeoutMs: number) => {
    warmedUp = false;
    draining = true;
    const stopped = server.stop(false);
    const t0 = Date.now();
    const idle = await shared.inFlight.idle(timeoutMs);
    if (!idle) {
      log.warn("shutdown timeout: cutting the requests still in flight", { in_flight: shared.inFlight.count, timeout_ms: timeoutMs });
      await server.stop(true);
    } else {
      // Every response is out; what the server may still hold open are idle keep-alive connections.
      const left = Math.max(0, timeoutMs - (Date.now() - t0));
      const closed = await Promise.race([stopped.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Math.min(left, 1000)))]);
      if (!closed) await server.stop(true);
    }
    for (const x of [...current.groups.values(), ...retiring]) x.drain();
    for (const x of [...current.groups.values(), ...retiring]) x.destroy();
    await telemetry.close();
    log.info("gateway stopped", { clean: idle });
  };

  return {
    url: `http://${host}:${server.port}`,
    port: server.port,
    invoker,
    get groups() {
      return current.groups;
    },
    get config() {
      return config;
    },
    metrics: telemetry.metrics,
    logger: log,
    get inFlight() {
      return shared.inFlight.count;
    },
    markDraining: () => {
      draining = true;
    },
    reload: (next) => {
      const r = reloading.then(() => reload(next));
      reloading = r.catch(() => {});
      return r;
    },
    stop: (options) => {
      stopping ??= stop(options?.timeoutMs ?? config.shutdown.timeout);
      return stopping;
    },
  };
}

function groupEmpty(g: UpstreamGroup): boolean {
  const s = g.stats();
  return [...s.endpoints, ...s.draining].every((p) => p.inFlight === 0 && p.connections.ready + p.connections.connecting + p.connections.draining === 0);
}

export { GatewayError, GrpcCode, Reason };
