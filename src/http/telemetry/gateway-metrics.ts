// Every metric the gateway exports, and the functions that move them. Names follow Prometheus
// conventions (base units, _total for counters); labels are bounded: routes are RPC methods or admin
// paths, never raw URLs.
import {
  CallbackCounter,
  DEFAULT_LATENCY_BUCKETS,
  type Counter,
  type CounterChild,
  type Gauge,
  type Histogram,
  type MetricsRegistry,
} from "../../observability/index.ts";
import type { RequestRecord } from "./request-record.ts";
import { RouteSeriesCache } from "./route-series.ts";

/** The parts of a pool's stats() the gauges read (structural: any pool shape with these fields). */
export interface PoolStatsLike {
  readonly key: string;
  readonly connections: { readonly ready: number; readonly connecting: number; readonly draining: number; readonly idle: number };
  readonly inFlight: number;
  readonly queued: number;
  readonly opened: number;
  readonly connectFailures: number;
  readonly connected: number;
}

/** The balancer's view of one endpoint: outlier-ejection state (absent when ejection is off). */
export interface BalancedEndpointLike {
  readonly key: string;
  readonly ejected?: boolean;
  /** Ejections so far while the endpoint has been in the list. */
  readonly ejections?: number;
}

export interface GroupStatsLike {
  readonly name: string;
  readonly endpoints: readonly PoolStatsLike[];
  readonly draining?: readonly PoolStatsLike[];
  readonly balancer?: { readonly endpoints: readonly BalancedEndpointLike[] };
}

/** One finished upstream attempt (UpstreamGroup.onOutcome). */
export interface AttemptLike {
  readonly upstream: string;
  readonly endpoint: string;
  readonly error?: { readonly codeName: string };
}

export interface MetricsSources {
  /** Upstream groups now serving or still draining after a reload. */
  readonly groups: () => Iterable<GroupStatsLike>;
  readonly invokerStats?: () => { readonly cancelledByClient: number };
  readonly ready?: () => boolean;
  readonly memoryRss?: () => number;
  readonly spanExporter?: () => { readonly exported: number; readonly dropped: number; readonly failed: number };
  /**
   * The circuit breakers of the running config's upstreams, read at scrape time: a removed upstream's series
   * goes, a replaced one's old breaker (still draining) is never shown, a refused reload shows nothing new.
   */
  readonly breakers?: () => Iterable<{ readonly name: string; readonly state: string }>;
}

export class GatewayMetrics {
  readonly registry: MetricsRegistry;
  readonly httpRequests: Counter<"route" | "method" | "status">;
  readonly httpDuration: Histogram<"route">;
  readonly httpInFlight: Gauge;
  readonly httpRequestBytes: Counter<"route">;
  readonly httpResponseBytes: Counter<"route">;
  readonly httpClientGone: Counter<"route">;
  readonly upstreamCalls: Counter<"upstream" | "method" | "code">;
  readonly upstreamBusinessErrors: Counter<"upstream" | "method" | "biz_status">;
  readonly upstreamDuration: Histogram<"upstream" | "method">;
  readonly upstreamAttempts: Counter<"upstream" | "endpoint" | "code">;
  readonly afterClientLeft: Counter<"upstream" | "method" | "outcome">;
  readonly retries: Counter<"upstream" | "method">;
  readonly hedges: Counter<"upstream" | "method">;
  readonly breakerState: Gauge<"breaker" | "state">;
  readonly authFailures: Counter<"reason">;
  readonly configReloads: Counter<"result">;
  readonly lastReloadSuccess: Gauge;
  readonly #routes: RouteSeriesCache;
  /** upstream -> endpoint -> code -> the attempts series (the child labels() gives, without building its key). */
  readonly #attempts = new Map<string, Map<string, Map<string, CounterChild>>>();

  constructor(registry: MetricsRegistry, sources: MetricsSources) {
    this.registry = registry;
    const r = registry;
    this.httpRequests = r.counter({ name: "sluice_http_requests_total", help: "HTTP requests by route, method and status.", labelNames: ["route", "method", "status"] });
    this.httpDuration = r.histogram({ name: "sluice_http_request_duration_seconds", help: "HTTP request latency, until the response body was sent.", labelNames: ["route"], buckets: DEFAULT_LATENCY_BUCKETS });
    this.httpInFlight = r.gauge({ name: "sluice_http_requests_in_flight", help: "HTTP requests being served (bodies included)." });
    this.httpRequestBytes = r.counter({ name: "sluice_http_request_bytes_total", help: "Request body bytes (from Content-Length).", labelNames: ["route"] });
    this.httpResponseBytes = r.counter({ name: "sluice_http_response_bytes_total", help: "Response body bytes sent.", labelNames: ["route"] });
    this.httpClientGone = r.counter({ name: "sluice_http_client_gone_total", help: "Requests whose client went away before the response was complete.", labelNames: ["route"] });
    this.upstreamCalls = r.counter({
      name: "sluice_upstream_calls_total",
      help: "Upstream calls by upstream, method and system (gRPC) status; a business error is a system OK.",
      labelNames: ["upstream", "method", "code"],
    });
    this.upstreamBusinessErrors = r.counter({ name: "sluice_upstream_business_errors_total", help: "Upstream calls answered with a business error (biz-status).", labelNames: ["upstream", "method", "biz_status"] });
    this.upstreamDuration = r.histogram({ name: "sluice_upstream_call_duration_seconds", help: "Upstream call latency until the reply head.", labelNames: ["upstream", "method"] });
    this.upstreamAttempts = r.counter({ name: "sluice_upstream_attempts_total", help: "Upstream attempts (transparent retries included) by endpoint and status.", labelNames: ["upstream", "endpoint", "code"] });
    this.afterClientLeft = r.counter({
      name: "sluice_calls_finished_after_client_left_total",
      help: "Upstream calls that completed after their HTTP client had gone (onClientDisconnect: continue).",
      labelNames: ["upstream", "method", "outcome"],
    });
    this.retries = r.counter({ name: "sluice_upstream_retries_total", help: "Retries started by the retry policy.", labelNames: ["upstream", "method"] });
    this.hedges = r.counter({ name: "sluice_upstream_hedges_total", help: "Hedged attempts started.", labelNames: ["upstream", "method"] });
    const breakers = sources.breakers;
    this.breakerState = r.gauge<"breaker" | "state">({
      name: "sluice_circuit_breaker_state",
      help: "1 for the current state of each circuit breaker (closed, open, half_open).",
      labelNames: ["breaker", "state"],
      ...(breakers !== undefined
        ? {
            collect: (g: Gauge<"breaker" | "state">) => {
              g.reset();
              for (const b of breakers()) for (const state of BREAKER_STATES) g.labels({ breaker: b.name, state }).set(state === b.state ? 1 : 0);
            },
          }
        : {}),
    });
    this.authFailures = r.counter({ name: "sluice_auth_failures_total", help: "Requests refused by JWT authentication, by reason.", labelNames: ["reason"] });
    this.configReloads = r.counter({ name: "sluice_config_reloads_total", help: "Config reloads by result (success, failure).", labelNames: ["result"] });
    this.lastReloadSuccess = r.gauge({ name: "sluice_config_last_reload_success_timestamp_seconds", help: "When the running config was loaded." });
    this.lastReloadSuccess.set(Date.now() / 1000);
    this.#routes = new RouteSeriesCache(this);

    const poolGauge = (name: string, help: string, value: (p: PoolStatsLike) => number) =>
      r.gauge<"upstream" | "endpoint">({
        name,
        help,
        labelNames: ["upstream", "endpoint"],
        collect: (g) => {
          g.reset();
          forEachPool(sources.groups(), (u, p) => g.labels({ upstream: u, endpoint: p.key }).inc(value(p)));
        },
      });
    poolGauge("sluice_upstream_in_flight", "Upstream calls in flight per endpoint.", (p) => p.inFlight);
    poolGauge("sluice_upstream_queued", "Calls waiting for a connection per endpoint.", (p) => p.queued);
    r.gauge<"upstream" | "endpoint" | "state">({
      name: "sluice_upstream_connections",
      help: "Upstream connections per endpoint by state (ready, connecting, draining; idle = ready without calls).",
      labelNames: ["upstream", "endpoint", "state"],
      collect: (g) => {
        g.reset();
        forEachPool(sources.groups(), (u, p) => {
          for (const state of ["ready", "connecting", "draining", "idle"] as const) g.labels({ upstream: u, endpoint: p.key, state }).inc(p.connections[state]);
        });
      },
    });
    const poolCounter = (name: string, help: string, value: (p: PoolStatsLike) => number) =>
      r.register(
        new CallbackCounter<"upstream" | "endpoint">({
          name,
          help,
          labelNames: ["upstream", "endpoint"],
          collect: (add) => forEachPool(sources.groups(), (u, p) => add({ upstream: u, endpoint: p.key }, value(p))),
        }),
      );
    // The pool counts dials as it starts them; a dial still in progress or one that failed is not an open
    // connection, so both are taken out here (failed dials have their own counter).
    poolCounter("sluice_upstream_connections_opened_total", "Upstream connections opened (dials that succeeded).", (p) => p.connected);
    poolCounter("sluice_upstream_connect_failures_total", "Upstream connection attempts (dials) that failed.", (p) => p.connectFailures);

    // Outlier ejection per endpoint, from the balancers of the groups serving or still draining.
    r.gauge<"upstream" | "endpoint">({
      name: "sluice_upstream_endpoint_ejected",
      help: "1 while outlier detection has taken the endpoint out of rotation, else 0.",
      labelNames: ["upstream", "endpoint"],
      collect: (g) => {
        g.reset();
        // A replaced group still draining has the same name: ejected in either counts.
        const seen = new Map<string, { u: string; key: string; on: boolean }>();
        forEachBalanced(sources.groups(), (u, e) => {
          const id = `${u}\u0000${e.key}`;
          seen.set(id, { u, key: e.key, on: (seen.get(id)?.on ?? false) || e.ejected === true });
        });
        for (const { u, key, on } of seen.values()) g.labels({ upstream: u, endpoint: key }).set(on ? 1 : 0);
      },
    });
    r.register(
      new CallbackCounter<"upstream" | "endpoint">({
        name: "sluice_upstream_ejections_total",
        help: "Outlier ejections of the endpoint.",
        labelNames: ["upstream", "endpoint"],
        collect: (add) => forEachBalanced(sources.groups(), (u, e) => add({ upstream: u, endpoint: e.key }, e.ejections ?? 0)),
      }),
    );

    const inv = sources.invokerStats;
    if (inv !== undefined) {
      r.register(new CallbackCounter({ name: "sluice_calls_cancelled_by_client_total", help: "Upstream calls cancelled because their client left (onClientDisconnect: cancel).", collect: (add) => add({}, inv().cancelledByClient) }));
    }
    const ready = sources.ready;
    if (ready !== undefined) r.gauge({ name: "sluice_ready", help: "1 when /readyz answers 200.", collect: (g) => g.set(ready() ? 1 : 0) });
    const rss = sources.memoryRss;
    if (rss !== undefined) r.gauge({ name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", collect: (g) => g.set(rss()) });
    const spans = sources.spanExporter;
    if (spans !== undefined) {
      r.register(
        new CallbackCounter<"result">({
          name: "sluice_trace_spans_total",
          help: "Spans handed to the OTLP exporter by result (exported, dropped, failed).",
          labelNames: ["result"],
          collect: (add) => {
            const s = spans();
            add({ result: "exported" }, s.exported);
            add({ result: "dropped" }, s.dropped);
            add({ result: "failed" }, s.failed);
          },
        }),
      );
    }
  }

  requestStarted(): void {
    this.httpInFlight.inc();
  }

  requestFinished(rec: RequestRecord): void {
    this.httpInFlight.dec();
    const route = this.#routes.of(rec.route);
    route.requests(rec.httpMethod, rec.status).inc();
    route.duration().observe(rec.durationMs / 1000);
    if (rec.bytesIn !== undefined) route.requestBytes().inc(rec.bytesIn);
    route.responseBytes().inc(rec.bytesOut);
    if (rec.clientGone) this.httpClientGone.labels({ route: rec.route }).inc();
    if (rec.auth !== undefined && rec.auth !== "ok" && rec.auth !== "anonymous") this.authFailures.labels({ reason: rec.auth }).inc();
    if (rec.upstreamCalled && rec.upstream !== undefined) {
      const business = rec.outcome === "business_error";
      route.upstreamCalls(rec.upstream, business ? "OK" : rec.code).inc();
      if (business) this.upstreamBusinessErrors.labels({ upstream: rec.upstream, method: rec.route, biz_status: rec.bizStatus ?? "" }).inc();
      if (rec.upstreamMs !== undefined) route.upstreamDuration(rec.upstream).observe(rec.upstreamMs / 1000);
    }
  }

  attempt(a: AttemptLike): void {
    const code = a.error?.codeName ?? "OK";
    let byEndpoint = this.#attempts.get(a.upstream);
    if (byEndpoint === undefined) this.#attempts.set(a.upstream, (byEndpoint = new Map()));
    let byCode = byEndpoint.get(a.endpoint);
    if (byCode === undefined) {
      // Endpoints come and go with discovery: start over rather than grow without bound.
      if (byEndpoint.size >= 1024) byEndpoint.clear();
      byEndpoint.set(a.endpoint, (byCode = new Map()));
    }
    let c = byCode.get(code);
    if (c === undefined) byCode.set(code, (c = this.upstreamAttempts.labels({ upstream: a.upstream, endpoint: a.endpoint, code })));
    c.inc();
  }

  finishedAfterClientLeft(e: { readonly upstream: string; readonly method: string; readonly ok: boolean }): void {
    this.afterClientLeft.labels({ upstream: e.upstream, method: e.method.replace(/^\//, ""), outcome: e.ok ? "ok" : "error" }).inc();
  }

  // Hooks for the resilience wiring (retry / hedge / breaker events); call them from its subscriptions.
  retry(e: { readonly upstream: string; readonly method: string }): void {
    this.retries.labels({ upstream: e.upstream, method: e.method.replace(/^\//, "") }).inc();
  }

  hedge(e: { readonly upstream: string; readonly method: string }): void {
    this.hedges.labels({ upstream: e.upstream, method: e.method.replace(/^\//, "") }).inc();
  }

  /** Without a `breakers` source only: with one, the gauge is rebuilt from it at every scrape. */
  breakerChanged(e: { readonly name: string; readonly to: string }): void {
    for (const state of BREAKER_STATES) this.breakerState.labels({ breaker: e.name, state }).set(state === e.to ? 1 : 0);
  }

  reloaded(ok: boolean): void {
    this.configReloads.labels({ result: ok ? "success" : "failure" }).inc();
    if (ok) this.lastReloadSuccess.set(Date.now() / 1000);
  }

  render(): string {
    return this.registry.render();
  }
}

const BREAKER_STATES = ["closed", "open", "half_open"] as const;

function forEachBalanced(groups: Iterable<GroupStatsLike>, fn: (upstream: string, e: BalancedEndpointLike) => void): void {
  for (const g of groups) for (const e of g.balancer?.endpoints ?? []) fn(g.name, e);
}

function forEachPool(groups: Iterable<GroupStatsLike>, fn: (upstream: string, p: PoolStatsLike) => void): void {
  for (const g of groups) {
    for (const p of g.endpoints) fn(g.name, p);
    for (const p of g.draining ?? []) fn(g.name, p);
  }
}
