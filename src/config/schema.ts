// The config file's shape, validated with zod. Errors name the path and what was expected.
import { z } from "zod";
import { DEFAULTS } from "./defaults.ts";
import { duration, size } from "./primitives.ts";
import { checkEdgeConfig, edgeSections, routeAuthSchema } from "./edge-schema.ts";

const endpoint = z.union([
  z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected "host:port"'),
  z.object({ address: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected "host:port"'), weight: z.number().int().positive().default(1) }).strict(),
]);

const d = DEFAULTS.upstream;
const poolSchema = z
  .object({
    minConnections: z.number().int().nonnegative().default(d.pool.minConnections),
    maxConnections: z.number().int().positive().default(d.pool.maxConnections),
    maxConcurrentPerConnection: z.number().int().positive().default(d.pool.maxConcurrentPerConnection),
    idleTimeout: duration.default(d.pool.idleTimeoutMs),
    maxIdle: z.number().int().nonnegative().default(d.pool.maxIdle),
    maxIdleGlobal: z.number().int().nonnegative().default(d.pool.maxIdleGlobal),
    queueSize: z.number().int().nonnegative().default(d.pool.queueSize),
    queueTimeout: duration.default(d.pool.queueTimeoutMs),
  })
  .strict();

const breakerSchema = z
  .object({
    threshold: z.number().gt(0).max(1).default(0.5),
    minSamples: z.number().int().positive().default(200),
    window: duration.default(10_000),
    cooldown: duration.default(5_000),
    halfOpenProbes: z.number().int().positive().default(1),
  })
  .strict();

const outlierSchema = z
  .object({
    consecutiveConnectFailures: z.number().int().positive().optional(),
    failureRateThreshold: z.number().gt(0).max(1).optional(),
    minSamples: z.number().int().positive().optional(),
    window: duration.optional(),
    baseEjection: duration.optional(),
    maxEjection: duration.optional(),
    maxEjectionPercent: z.number().min(0).max(100).optional(),
  })
  .strict();

/** Inline PEM. A path here is the likely mistake, so the message says where paths go. */
const pem = (label: string, fileKey: string) => {
  const begin = label === "CERTIFICATE" ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  return z.string().refine((v) => begin.test(v), { message: `expected PEM text ("-----BEGIN ${label}-----"...); to read a file, give ${fileKey}` });
};
const filePath = z.string().min(1, "expected a file path");
const ipLike = (v: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.includes(":");

/**
 * gRPC over TLS (ALPN h2). PEM inline (ca, cert, key) or from files (caFile, certFile, keyFile; relative
 * paths are relative to the working directory, like descriptors). Files are read for every new connection,
 * so renewed certificates are picked up without a restart.
 */
const tlsSchema = z
  .object({
    /** SNI and the name the server certificate must match (default: the upstream's one host name, if any). */
    servername: z
      .string()
      .min(1)
      .refine((v) => !ipLike(v), { message: "expected a DNS name (SNI carries no IPs); leave servername out to check the certificate against the endpoint's IP" })
      .optional(),
    /** Trusted CAs (default: the system roots). */
    ca: pem("CERTIFICATE", "caFile").optional(),
    caFile: filePath.optional(),
    /** Client certificate and key, for backends that require mutual TLS. */
    cert: pem("CERTIFICATE", "certFile").optional(),
    certFile: filePath.optional(),
    key: pem("PRIVATE KEY", "keyFile").optional(),
    keyFile: filePath.optional(),
    /** Accept any server certificate. Testing only. */
    insecureSkipVerify: z.boolean().default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [inline, file] of [["ca", "caFile"], ["cert", "certFile"], ["key", "keyFile"]] as const) {
      if (t[inline] !== undefined && t[file] !== undefined) ctx.addIssue({ code: "custom", path: [inline], message: `give ${inline} (PEM text) or ${file} (a path), not both` });
    }
    const cert = t.cert !== undefined || t.certFile !== undefined;
    const key = t.key !== undefined || t.keyFile !== undefined;
    if (cert && !key) ctx.addIssue({ code: "custom", path: ["keyFile"], message: "a client certificate needs its private key: give keyFile (or key)" });
    if (key && !cert) ctx.addIssue({ code: "custom", path: ["certFile"], message: "a private key needs its client certificate: give certFile (or cert)" });
    if (t.key?.includes("ENCRYPTED")) ctx.addIssue({ code: "custom", path: ["key"], message: "encrypted private keys are not supported; give an unencrypted PEM key" });
  });

const upstreamSchema = z
  .object({
    name: z.string().min(1),
    protocol: z.enum(["grpc", "ttheader"]).default("grpc"),
    /** TTHeader only: many calls per connection (mux) or one at a time (pool). */
    mode: z.enum(["mux", "pool"]).default("mux"),
    /** Static endpoints (IPs, or host names resolved once). Or use `dns`. */
    endpoints: z.array(endpoint).default([]),
    /**
     * DNS discovery: A/AAAA of host, pools keyed by resolved IP. Re-resolved when the shortest record TTL
     * runs out, clamped to [minTtl, refreshInterval] (refreshInterval alone when the answer has no TTL);
     * minRefreshInterval spaces any two lookups, early refreshes after connect failures included.
     */
    dns: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        refreshInterval: duration.default(d.dns.refreshIntervalMs),
        minRefreshInterval: duration.default(d.dns.minRefreshIntervalMs),
        minTtl: duration.default(d.dns.minTtlMs),
      })
      .strict()
      .optional(),
    balancer: z.enum(["round_robin", "least_request", "ring_hash"]).default("round_robin"),
    /** ring_hash: request header (lower-case) whose value is the hash key. */
    hashHeader: z.string().toLowerCase().optional(),
    outlier: z.union([z.literal(false), outlierSchema]).default({}),
    breaker: z.union([z.literal(false), breakerSchema]).default(breakerSchema.parse({})),
    /** gRFC A6 retry throttling shared by the upstream's routes (never-sent transparent retries don't count). maxTokens in (0, 1000] as grpc-js checks. */
    retryBudget: z
      .object({ maxTokens: z.number().positive().max(1000).default(d.retryBudget.maxTokens), tokenRatio: z.number().positive().default(d.retryBudget.tokenRatio) })
      .strict()
      .default({ ...d.retryBudget }),
    /** Bulkhead over all calls to this upstream (0 = none). */
    maxConcurrent: z.number().int().nonnegative().default(0),
    /** With maxConcurrent: calls that may wait for a slot (FIFO) beyond it; more are refused 503 at once. */
    queueSize: z.number().int().nonnegative().default(d.bulkhead.queueSize),
    /** With maxConcurrent: longest wait in that queue, then 503 overloaded naming the upstream. */
    queueTimeout: duration.default(d.bulkhead.queueTimeoutMs),
    /** Connections opened per endpoint at start-up and when an address appears (default: pool.minConnections). */
    warmup: z.number().int().nonnegative().optional(),
    /**
     * gRPC only: the HTTP/2 client for cleartext (h2c) endpoints. "runtime" = node:http2 as the runtime
     * implements it; "sluice" = our own (src/protocol/h2, cheaper per call on Bun). TLS always uses "runtime".
     */
    http2Client: z.enum(["runtime", "sluice"]).default(d.http2Client),
    /** gRPC only: connect with TLS (see tlsSchema); absent = h2c (plaintext HTTP/2). */
    tls: tlsSchema.optional(),
    connectTimeout: duration.default(d.connectTimeoutMs),
    maxMessageBytes: size.default(DEFAULTS.limits.maxMessageBytes),
    /**
     * TTHeader only: largest header block of a reply (spec §1.4: HEADER_SIZE*4, at most 65535*4 bytes). A reply
     * over it is a protocol error that fails the connection's calls (the frame can't be trusted to resync).
     */
    maxHeaderBytes: size.pipe(z.number().min(2, "expected at least 2 bytes").max(65535 * 4, "expected at most 262140 bytes (65535*4, the largest the HEADER_SIZE field can say)")).default(d.ttheaderMaxHeaderBytes),
    /** TTHeader mux: connections per endpoint. */
    muxConnections: z.number().int().positive().default(d.muxConnections),
    /** Retire connections after this age, jittered +/-10 % (0 = never); every protocol. See DEFAULTS.upstream.maxAgeMs. */
    maxAge: duration.default(d.maxAgeMs),
    keepalive: z
      .object({ interval: duration.default(d.keepalive.intervalMs), timeout: duration.default(d.keepalive.timeoutMs), onlyWithCalls: z.boolean().default(d.keepalive.onlyWithCalls) })
      .strict()
      .default({ interval: d.keepalive.intervalMs, timeout: d.keepalive.timeoutMs, onlyWithCalls: d.keepalive.onlyWithCalls }),
    pool: poolSchema.default(poolSchema.parse({})),
    /** Kitex service name sent as to-service (TTHeader). */
    serviceName: z.string().optional(),
  })
  .strict()
  .refine((u) => u.endpoints.length > 0 || u.dns !== undefined, { message: "give endpoints or dns", path: ["endpoints"] })
  .refine((u) => u.tls === undefined || u.protocol === "grpc", { message: "tls is supported for grpc upstreams only", path: ["tls"] });

const routeSchema = z
  .object({
    /** "pkg.Service/Method", "pkg.Service/*" or "pkg.*". */
    method: z.string().min(1),
    timeout: duration.optional(),
    maxTimeout: duration.optional(),
    onClientDisconnect: z.enum(["continue", "cancel"]).optional(),
    idempotent: z.boolean().optional(),
    maxBodyBytes: size.optional(),
    /** Overrides limits.bodyReadTimeout for this route (e.g. long-lived NDJSON client streams). */
    bodyReadTimeout: duration.optional(),
    /** Retries (idempotent routes only, except never-sent calls, which are always retried). */
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(10).default(3),
        initialBackoff: duration.default(50),
        maxBackoff: duration.default(1_000),
        codes: z.array(z.string()).default(["UNAVAILABLE"]),
      })
      .strict()
      .optional(),
    /** Backup requests after a delay (idempotent routes only). */
    hedge: z
      .object({ delay: duration.default(100), percentile: z.number().gt(0).lt(1).optional(), maxHedges: z.number().int().min(1).max(5).default(1) })
      .strict()
      .optional(),
    maxConcurrent: z.number().int().positive().optional(),
    queueSize: z.number().int().nonnegative().optional(),
    queueTimeout: duration.optional(),
    /**
     * Token bucket per client key: "ip" (default), "header:<name>", "metadata:<name>" (upstream
     * metadata, e.g. a forwarded claim), or "claim:<name>" (a claim of the verified JWT; needs auth).
     */
    rateLimit: z
      .object({
        ratePerSec: z.number().positive(),
        burst: z.number().int().positive().optional(),
        key: z
          .string()
          .regex(/^(ip|(header|metadata):[A-Za-z0-9!#$%&'*+.^_`|~-]+|claim:[^\s]+)$/, 'expected "ip", "header:<name>", "metadata:<name>" or "claim:<name>"')
          .default("ip"),
      })
      .strict()
      .optional(),
    auth: routeAuthSchema.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    listen: z.object({ host: z.string().default(DEFAULTS.listen.host), port: z.number().int().min(0).max(65535).default(DEFAULTS.listen.port) }).strict().default(DEFAULTS.listen),
    descriptors: z.array(z.string().min(1)).min(1),
    json: z
      .object({
        ignoreUnknownFields: z.boolean().default(DEFAULTS.json.ignoreUnknownFields),
        emitDefaults: z.boolean().default(DEFAULTS.json.emitDefaults),
        useProtoNames: z.boolean().default(DEFAULTS.json.useProtoNames),
      })
      .strict()
      .default(DEFAULTS.json),
    limits: z
      .object({
        maxBodyBytes: size.default(DEFAULTS.limits.maxBodyBytes),
        /**
         * A request body must arrive within this (or the route's deadline, if sooner); a client
         * stream's NDJSON lines each within this. Otherwise 408 body_read_timeout.
         */
        bodyReadTimeout: duration.default(DEFAULTS.limits.bodyReadTimeoutMs),
      })
      .strict()
      .default({ maxBodyBytes: DEFAULTS.limits.maxBodyBytes, bodyReadTimeout: DEFAULTS.limits.bodyReadTimeoutMs }),
    upstreams: z.array(upstreamSchema).min(1),
    /** Which services go to which upstream: "demo.v1.EchoService" or a package prefix "demo.v1.*", or "*". */
    services: z.array(z.object({ match: z.string().min(1), upstream: z.string().min(1) }).strict()).min(1),
    routes: z.array(routeSchema).default([]),
    /** Reply compression (gzip; br where the runtime has it) for clients that accept it. */
    compression: z
      .object({
        enabled: z.boolean().default(DEFAULTS.compression.enabled),
        threshold: size.default(DEFAULTS.compression.thresholdBytes),
        /** Streamed replies (NDJSON, SSE, JSON array) too, flushed after every message. */
        streams: z.boolean().default(DEFAULTS.compression.streams),
      })
      .strict()
      .default({ enabled: DEFAULTS.compression.enabled, threshold: DEFAULTS.compression.thresholdBytes, streams: DEFAULTS.compression.streams }),
    /** HTTP status for backend business errors (Kitex biz-status); they carry a `business` object. */
    businessErrorStatus: z.number().int().min(200).max(599).default(422),
    defaults: z
      .object({
        timeout: duration.default(DEFAULTS.route.timeoutMs),
        maxTimeout: duration.default(DEFAULTS.route.maxTimeoutMs),
        onClientDisconnect: z.enum(["continue", "cancel"]).default(DEFAULTS.route.onClientDisconnect),
      })
      .strict()
      .default({ timeout: DEFAULTS.route.timeoutMs, maxTimeout: DEFAULTS.route.maxTimeoutMs, onClientDisconnect: DEFAULTS.route.onClientDisconnect }),
    ...edgeSections,
  })
  .strict()
  .superRefine((c, ctx) => {
    checkEdgeConfig(c, ctx);
    c.routes.forEach((r, i) => {
      if (r.rateLimit?.key.startsWith("claim:") && c.auth === undefined) {
        ctx.addIssue({ code: "custom", path: ["routes", i, "rateLimit", "key"], message: `"${r.rateLimit.key}" needs a top-level auth section (claims come from the verified JWT)` });
      }
    });
    const names = new Set<string>();
    c.upstreams.forEach((u, i) => {
      if (names.has(u.name)) ctx.addIssue({ code: "custom", path: ["upstreams", i, "name"], message: `duplicate upstream name "${u.name}"` });
      names.add(u.name);
    });
    c.services.forEach((s, i) => {
      if (!names.has(s.upstream)) ctx.addIssue({ code: "custom", path: ["services", i, "upstream"], message: `no upstream named "${s.upstream}" (have: ${[...names].join(", ")})` });
    });
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type UpstreamConfig = Config["upstreams"][number];
export type RouteConfig = Config["routes"][number];
