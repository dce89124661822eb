// Every default in one place. Durations are milliseconds.
export const DEFAULTS = {
  listen: { host: "0.0.0.0", port: 8080 },
  json: { ignoreUnknownFields: false, emitDefaults: false, useProtoNames: false },
  // bodyReadTimeoutMs: a request body (or one NDJSON line of a client stream) must arrive within this.
  limits: { maxBodyBytes: 4 * 1024 * 1024, maxMessageBytes: 64 * 1024 * 1024, bodyReadTimeoutMs: 30_000 },
  compression: { enabled: true, thresholdBytes: 1024, streams: true },
  route: { timeoutMs: 30_000, maxTimeoutMs: 300_000, onClientDisconnect: "continue" as const },
  upstream: {
    connectTimeoutMs: 3_000,
    // gRPC over cleartext HTTP/2: "runtime" = node:http2 (as implemented by Bun/Deno/Node), "sluice" = our
    // own client (src/protocol/h2). TLS upstreams always use the runtime's. "runtime" until proven.
    http2Client: "runtime" as "runtime" | "sluice",
    // Kitex long-pool defaults (maxIdlePerAddress 10, maxIdleGlobal 100, maxIdleTimeout 30 s, minIdle 0).
    pool: {
      minConnections: 0,
      maxConnections: 64,
      maxConcurrentPerConnection: 1000,
      // Below the common 60 s NAT idle timeout.
      idleTimeoutMs: 30_000,
      maxIdle: 10,
      maxIdleGlobal: 100,
      queueSize: 1000,
      queueTimeoutMs: 1_000,
    },
    muxConnections: 2,
    // Upstream bulkhead (maxConcurrent): no queue unless asked for, so a saturated upstream sheds load at once
    // (as before these keys existed); with queueSize > 0 a call waits at most queueTimeout, then 503 overloaded.
    bulkhead: { queueSize: 0, queueTimeoutMs: 1_000 },
    // TTHeader: largest header block (HEADER_SIZE*4) accepted in a reply. Older Kitex (gopkg < v0.1.8) only
    // accept headers below 64 KiB (spec §1.4, §12.5), so a sane peer never sends more.
    ttheaderMaxHeaderBytes: 65_532,
    // Off for gRPC and TTHeader alike: Kitex clients have no max age and neither has grpc-go/grpc-js on the
    // client side (MAX_CONNECTION_AGE is a server setting), and endpoints that discovery reports get their own
    // pools at once. Set it when several instances hide behind one address (L4 balancer, virtual IP).
    maxAgeMs: 0,
    keepalive: { intervalMs: 0, timeoutMs: 10_000, onlyWithCalls: true },
    // DNS discovery: re-resolve at least every refreshInterval; sooner when a record's TTL says so, but
    // never sooner than minTtl (Envoy's dns_min_refresh_rate default under respect_dns_ttl: 5 s).
    dns: { refreshIntervalMs: 30_000, minRefreshIntervalMs: 2_000, minTtlMs: 5_000 },
    // gRFC A6 retry throttling with a bucket that absorbs one endpoint's worth of simultaneous losses:
    // retries stop only after maxTokens/2 = 50 failures in a row, and stay off while failures exceed
    // ~tokenRatio (10 %) of successes. A6's example (10 tokens) turns retries off after 5 failures,
    // fewer than the calls in flight on one multiplexed connection. Reasoning: src/resilience/retry-budget.ts.
    retryBudget: { maxTokens: 100, tokenRatio: 0.1 },
  },
  shutdown: { drainDelayMs: 0, timeoutMs: 15_000 },
  // Edge sections (auth, headers, cors, tracing, logging, metrics, reload): src/config/edge-schema.ts.
  auth: {
    mode: "required" as const,
    clockSkewMs: 30_000,
    claimPrefix: "x-jwt-",
    // jose createRemoteJWKSet: refetch on unknown kid at most once per cooldown; keys older than cacheMaxAge refetched.
    jwks: { cooldownMs: 30_000, cacheMaxAgeMs: 600_000, timeoutMs: 5_000 },
  },
  headers: { forward: [] as readonly string[] },
  cors: { exposeHeaders: ["x-request-id"] as readonly string[], maxAgeMs: 600_000 },
  tracing: { serviceName: "sluice", sampleRatio: 1, otlp: { flushIntervalMs: 5_000, timeoutMs: 10_000, maxQueueSize: 2048 } },
  logging: { level: "info" as const, accessLog: true },
  metrics: { enabled: true },
  reload: { watch: true, intervalMs: 2_000 },
} as const;
