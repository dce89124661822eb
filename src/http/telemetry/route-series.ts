// The series a finished request moves, resolved once per route (and method, status, upstream, code)
// and kept: the hot path then skips building the label key and looking it up for each of the six
// series per request. A series is still created on first use only, exactly when labels() would have
// created it, so /metrics shows the same series. Routes are bounded (RPC methods, admin paths,
// "unmatched"); past MAX_ROUTES the caller falls back to labels().
import type { CounterChild, Counter, Histogram, HistogramChild } from "../../observability/index.ts";

const MAX_ROUTES = 4096;

export interface RouteMetrics {
  readonly httpRequests: Counter<"route" | "method" | "status">;
  readonly httpDuration: Histogram<"route">;
  readonly httpRequestBytes: Counter<"route">;
  readonly httpResponseBytes: Counter<"route">;
  readonly upstreamCalls: Counter<"upstream" | "method" | "code">;
  readonly upstreamDuration: Histogram<"upstream" | "method">;
}

export class RouteSeries {
  readonly #route: string;
  readonly #m: RouteMetrics;
  #duration: HistogramChild | undefined;
  #requestBytes: CounterChild | undefined;
  #responseBytes: CounterChild | undefined;
  readonly #requests = new Map<string, Map<number, CounterChild>>();
  readonly #calls = new Map<string, Map<string, CounterChild>>();
  readonly #upstreamDuration = new Map<string, HistogramChild>();

  constructor(route: string, m: RouteMetrics) {
    this.#route = route;
    this.#m = m;
  }

  duration(): HistogramChild {
    return (this.#duration ??= this.#m.httpDuration.labels({ route: this.#route }));
  }

  requestBytes(): CounterChild {
    return (this.#requestBytes ??= this.#m.httpRequestBytes.labels({ route: this.#route }));
  }

  responseBytes(): CounterChild {
    return (this.#responseBytes ??= this.#m.httpResponseBytes.labels({ route: this.#route }));
  }

  requests(method: string, status: number): CounterChild {
    let byStatus = this.#requests.get(method);
    if (byStatus === undefined) this.#requests.set(method, (byStatus = new Map()));
    let c = byStatus.get(status);
    if (c === undefined) byStatus.set(status, (c = this.#m.httpRequests.labels({ route: this.#route, method, status })));
    return c;
  }

  upstreamCalls(upstream: string, code: string): CounterChild {
    let byCode = this.#calls.get(upstream);
    if (byCode === undefined) this.#calls.set(upstream, (byCode = new Map()));
    let c = byCode.get(code);
    if (c === undefined) byCode.set(code, (c = this.#m.upstreamCalls.labels({ upstream, method: this.#route, code })));
    return c;
  }

  upstreamDuration(upstream: string): HistogramChild {
    let h = this.#upstreamDuration.get(upstream);
    if (h === undefined) this.#upstreamDuration.set(upstream, (h = this.#m.upstreamDuration.labels({ upstream, method: this.#route })));
    return h;
  }
}

export class RouteSeriesCache {
  readonly #m: RouteMetrics;
  readonly #routes = new Map<string, RouteSeries>();

  constructor(m: RouteMetrics) {
    this.#m = m;
  }

  /** The route's series; a fresh, uncached one past MAX_ROUTES (same series, resolved again). */
  of(route: string): RouteSeries {
    let s = this.#routes.get(route);
    if (s === undefined) {
      s = new RouteSeries(route, this.#m);
      if (this.#routes.size < MAX_ROUTES) this.#routes.set(route, s);
    }
    return s;
  }
}
