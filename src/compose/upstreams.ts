// Config -> upstream groups: discovery (static or DNS), connection factory per protocol, pools,
// balancer and the per-upstream resilience parts (breaker, retry budget, bulkhead).
import type { UpstreamConfig } from "../config/index.ts";
import { createStaticResolver, DnsResolver, type LookupFn, type Resolver } from "../discovery/index.ts";
import { createUpstreamResilience, UpstreamGroup, type UpstreamResilience } from "../rpc/index.ts";
import { createH2ClientSession } from "../protocol/h2/index.ts";
import type { H2ConnectOptions, H2Session, H2TlsOptions, Runtime } from "../runtime/index.ts";
import { createGrpcConnection, createMuxConnection, createPingpongConnection, IdleLedger, type Connection, type EndpointAddress } from "../upstream/index.ts";

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

type UpstreamTls = NonNullable<UpstreamConfig["tls"]>;

const PEM_FILES = [
  ["caFile", /-----BEGIN CERTIFICATE-----/, "a PEM certificate"],
  ["certFile", /-----BEGIN CERTIFICATE-----/, "a PEM certificate"],
  ["keyFile", /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
] as const;

/**
 * An upstream's TLS options with the *File paths read through the runtime. Rejects with a message naming
 * the upstream, the key and the path. Called for every new connection (so renewed files are used); the
 * composition root may also call it once at start-up to refuse a config whose files are unusable.
 */
export async function loadUpstreamTls(upstream: string, t: UpstreamTls, readTextFile: (path: string) => Promise<string>): Promise<H2TlsOptions> {
  const [ca, cert, key] = await Promise.all(
    PEM_FILES.map(async ([field, pattern, what]) => {
      const path = t[field];
      if (path === undefined) return undefined;
      let text: string;
      try {
        text = await readTextFile(path);
      } catch (e) {
        throw new Error(`upstream "${upstream}": cannot read tls.${field} "${path}": ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!pattern.test(text)) throw new Error(`upstream "${upstream}": tls.${field} "${path}" is not ${what}`);
      if (field === "keyFile" && text.includes("ENCRYPTED")) throw new Error(`upstream "${upstream}": tls.keyFile "${path}" is encrypted; give an unencrypted key`);
      return text;
    }),
  );
  return inlineTls({ ...t, ca: ca ?? t.ca, cert: cert ?? t.cert, key: key ?? t.key });
}

function inlineTls(t: UpstreamTls): H2TlsOptions {
  return stripUndefined({ servername: t.servername, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: !t.insecureSkipVerify });
}

const isIpLiteral = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(":");

/**
 * Connections dial resolved IPs, so without this the certificate would be checked against an IP. When the
 * upstream has one host name (dns.host, or every endpoint written with the same name), that name is the
 * SNI and the name checked, as a client that dialled the name would do. Otherwise: set tls.servername.
 */
export function defaultServername(u: UpstreamConfig): string | undefined {
  if (u.dns) return isIpLiteral(u.dns.host) ? undefined : u.dns.host;
  const hosts = new Set(u.endpoints.map((e) => (typeof e === "string" ? e : e.address).replace(/:\d+$/, "").replace(/^\[|\]$/g, "")));
  const [only] = hosts;
  return hosts.size === 1 && only !== undefined && !isIpLiteral(only) ? only : undefined;
}

/** Inline PEM is used as is; files make a loader the connection calls before each connect. */
function grpcTls(u: UpstreamConfig, rt: Runtime): H2TlsOptions | (() => Promise<H2TlsOptions>) | undefined {
  if (!u.tls) return undefined;
  const t = { ...u.tls, servername: u.tls.servername ?? defaultServername(u) };
  if (t.caFile === undefined && t.certFile === undefined && t.keyFile === undefined) return inlineTls(t);
  return () => loadUpstreamTls(u.name, t, rt.readTextFile);
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
  const tls = grpcTls(u, rt);
  const openH2Session = h2SessionFactory(u, rt);
  return (address, id) =>
    createGrpcConnection({
      id,
      address,
      openH2Session,
      tls,
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
      // The frame limit leaves room for the header block beside the message (64 KiB unless maxHeaderBytes is larger).
      limits: { maxFrameSize: u.maxMessageBytes + Math.max(64 * 1024, u.maxHeaderBytes + 4096), maxHeaderSize: u.maxHeaderBytes },
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
    // Pool mode is Kitex's long pool: idle connections of all endpoints together are capped as well.
    ...(pingpong ? { idleLedger: new IdleLedger(u.pool.maxIdleGlobal) } : {}),
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
      warmupTimeoutMs: u.connectTimeout,
    },
    resolverFor(u, f.lookup ?? f.runtime.resolveDns),
  );
  const resilience = createUpstreamResilience({
    name: u.name,
    breaker: u.breaker === false ? undefined : { threshold: u.breaker.threshold, minSamples: u.breaker.minSamples, windowMs: u.breaker.window, cooldownMs: u.breaker.cooldown, halfOpenProbes: u.breaker.halfOpenProbes },
    retryBudget: u.retryBudget,
    maxConcurrent: u.maxConcurrent || undefined,
    queueSize: u.queueSize,
    queueTimeoutMs: u.queueTimeout,
  });
  return { group, resilience };
}

function stripUndefined<T>(o: T): T {
  if (typeof o !== "object" || o === null) return o;
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
