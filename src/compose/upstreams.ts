// Config -> upstream groups: discovery (static or DNS), connection factory per protocol, pools,
// balancer and the per-upstream resilience parts (breaker, retry budget, bulkhead).
import type { UpstreamConfig } from "../config/index.ts";
import { createStaticResolver, DnsResolver, type LookupFn, type Resolver } from "../discovery/index.ts";
import { createUpstreamResilience, UpstreamGroup, type UpstreamResilience } from "../rpc/index.ts";
import { createH2ClientSession } from "../protocol/h2/index.ts";
import type { H2ConnectOptions, H2Session, Runtime } from "../runtime/index.ts";
import { createGrpcConnection, createMuxConnection, createPingpongConnection, type Connection, type EndpointAddress } from "../upstream/index.ts";

export interface BuiltUpstream {
  readonly group: UpstreamGroup;
  readonly resilience: UpstreamResilience;
}

export interface UpstreamFactories {
  readonly runtime: Runtime;
  /** DNS lookup; defaults to the runtime's resolver (tests inject their own). */
  readonly lookup?: LookupFn;
  /** Extra protocols (TTHeader) register here: protocol key -> connection factory. */
  readonly protocols?: Readonly<Record<string, (u: UpstreamConfig, rt: Runtime) => (a: EndpointAddress, id: number) => Connection>>;
}

export function protocolKey(u: UpstreamConfig): string {
  return u.protocol === "grpc" ? "grpc" : `ttheader-${u.mode}`;
}

/** The HTTP/2 client for an upstream: ours for cleartext when asked for, else the runtime's node:http2. */
export function h2SessionFactory(u: Pick<UpstreamConfig, "http2Client" | "tls">, rt: Runtime): (o: H2ConnectOptions) => H2Session {
  if (u.http2Client !== "sluice" || u.tls) return rt.openH2Session;
  return (o) =>
    createH2ClientSession({
      authority: o.authority,
      connect: rt.connectTcp,
      connectTimeoutMs: o.connectTimeoutMs,
      initialWindowSize: o.initialWindowSize,
      tcpKeepAliveMs: o.tcpKeepAliveMs,
      events: o.events,
    });
}

function grpcFactory(u: UpstreamConfig, rt: Runtime): (a: EndpointAddress, id: number) => Connection {
  const openH2Session = h2SessionFactory(u, rt);
  return (address, id) =>
    createGrpcConnection({
      id,
      address,
      openH2Session,
      tls: u.tls ? { servername: u.tls.servername, ca: u.tls.ca, rejectUnauthorized: !u.tls.insecureSkipVerify } : undefined,
      connectTimeoutMs: u.connectTimeout,
      maxMessageBytes: u.maxMessageBytes,
      keepalive: { intervalMs: u.keepalive.interval, timeoutMs: u.keepalive.timeout, onlyWithCalls: u.keepalive.onlyWithCalls },
    });
}

function ttheaderFactory(u: UpstreamConfig, rt: Runtime): (a: EndpointAddress, id: number) => Connection {
  const create = u.mode === "mux" ? createMuxConnection : createPingpongConnection;
  return (address, id) =>
    create({
      id,
      connectTcp: rt.connectTcp,
      host: address.host,
      port: address.port,
      connectTimeoutMs: u.connectTimeout,
      // TCP keepalive finds dead peers on idle TTHeader connections (there is no PING frame).
      keepAliveMs: u.keepalive.interval > 0 ? u.keepalive.interval : 30_000,
      toService: u.serviceName,
      fromService: "sluice",
      limits: { maxFrameSize: u.maxMessageBytes + 64 * 1024 },
    });
}

function resolverFor(u: UpstreamConfig, lookup: LookupFn): Resolver {
  if (u.dns) {
    return new DnsResolver({ host: u.dns.host, port: u.dns.port, lookup, refreshMs: u.dns.refreshInterval, minRefreshMs: u.dns.minRefreshInterval, minTtlMs: u.dns.minTtl });
  }
  return createStaticResolver(
    u.endpoints.map((e) => (typeof e === "string" ? e : { address: e.address, weight: e.weight })),
    { lookup, name: `static:${u.name}` },
  );
}

export function buildUpstream(u: UpstreamConfig, f: UpstreamFactories): BuiltUpstream {
  const key = protocolKey(u);
  const factory = f.protocols?.[key] ?? (key === "grpc" ? grpcFactory : ttheaderFactory);
  if (!factory) throw new Error(`upstream ${u.name}: protocol ${key} is not available`);
  const ttMux = key === "ttheader-mux";
  const pingpong = key === "ttheader-pool";
  const pool = {
    // Mux: a small fixed set of connections per endpoint, opened up front.
    minConnections: ttMux ? Math.max(u.pool.minConnections, u.muxConnections) : u.pool.minConnections,
    maxConnections: ttMux ? u.muxConnections : u.pool.maxConnections,
    maxConcurrentPerConnection: pingpong ? 1 : u.pool.maxConcurrentPerConnection,
    idleTimeoutMs: u.pool.idleTimeout,
    maxIdle: u.pool.maxIdle,
    queueSize: u.pool.queueSize,
    queueTimeoutMs: u.pool.queueTimeout,
    // Every protocol: the pool retires connections past this age (open-before-retire when multiplexed).
    maxAgeMs: u.maxAge,
  };
  const o = u.outlier;
  const outlier =
    o === false
      ? (false as const)
      : {
          consecutiveConnectFailures: o.consecutiveConnectFailures,
          failureRateThreshold: o.failureRateThreshold,
          failureRateMinRequests: o.minSamples,
          failureRateWindowMs: o.window,
          baseEjectionMs: o.baseEjection,
          maxEjectionMs: o.maxEjection,
          maxEjectionPercent: o.maxEjectionPercent,
        };
  const group = new UpstreamGroup(
    {
      name: u.name,
      protocol: key,
      createConnection: factory(u, f.runtime),
      pool,
      balancer: u.balancer,
      outlier: stripUndefined(outlier),
      hashKey: u.hashHeader,
      warmupConnections: u.warmup ?? pool.minConnections,
    },
    resolverFor(u, f.lookup ?? f.runtime.resolveDns),
  );
  const resilience = createUpstreamResilience({
    name: u.name,
    breaker: u.breaker === false ? undefined : { threshold: u.breaker.threshold, minSamples: u.breaker.minSamples, windowMs: u.breaker.window, cooldownMs: u.breaker.cooldown, halfOpenProbes: u.breaker.halfOpenProbes },
    retryBudget: u.retryBudget,
    maxConcurrent: u.maxConcurrent || undefined,
  });
  return { group, resilience };
}

function stripUndefined<T>(o: T): T {
  if (typeof o !== "object" || o === null) return o;
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
