import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../../observability/index.ts";
import { GatewayMetrics, type GroupStatsLike } from "./gateway-metrics.ts";
import type { RequestRecord } from "./request-record.ts";

const rec = (r: Partial<RequestRecord>): RequestRecord => ({
  requestId: "r",
  traceId: "t".repeat(32),
  spanId: "s".repeat(16),
  traceFlags: 1,
  httpMethod: "POST",
  path: "/shop.v1.Orders/Place",
  route: "shop.v1.Orders/Place",
  upstream: "orders",
  status: 200,
  code: "OK",
  outcome: "ok",
  upstreamCalled: true,
  startMs: 0,
  durationMs: 12,
  upstreamMs: 10,
  bytesOut: 100,
  clientGone: false,
  admin: false,
  ...r,
});

function metrics(groups: GroupStatsLike[] = []) {
  const m = new GatewayMetrics(new MetricsRegistry(), { groups: () => groups });
  const value = (name: string, labels: string) => {
    const line = m.render().split("\n").find((l) => l.startsWith(`${name}{${labels}} `) || (labels === "" && l.startsWith(`${name} `)));
    return line === undefined ? undefined : Number(line.split(" ").at(-1));
  };
  return { m, value };
}

describe("GatewayMetrics", () => {
  test("business errors are a system OK plus a business count; system errors keep their code", () => {
    const { m, value } = metrics();
    m.requestStarted();
    m.requestFinished(rec({ status: 422, code: "UNKNOWN", outcome: "business_error", bizStatus: 1001 }));
    m.requestStarted();
    m.requestFinished(rec({ status: 503, code: "UNAVAILABLE", outcome: "system_error" }));
    m.requestStarted();
    m.requestFinished(rec({ status: 400, code: "INVALID_ARGUMENT", outcome: "system_error", upstreamCalled: false }));
    expect(value("sluice_upstream_calls_total", 'upstream="orders",method="shop.v1.Orders/Place",code="OK"')).toBe(1);
    expect(value("sluice_upstream_calls_total", 'upstream="orders",method="shop.v1.Orders/Place",code="UNAVAILABLE"')).toBe(1);
    expect(value("sluice_upstream_calls_total", 'upstream="orders",method="shop.v1.Orders/Place",code="INVALID_ARGUMENT"')).toBeUndefined();
    expect(value("sluice_upstream_business_errors_total", 'upstream="orders",method="shop.v1.Orders/Place",biz_status="1001"')).toBe(1);
    expect(value("sluice_http_requests_total", 'route="shop.v1.Orders/Place",method="POST",status="400"')).toBe(1);
    expect(value("sluice_http_requests_in_flight", "")).toBe(0);
  });

  test("pool gauges and counters come from the groups' stats at scrape time", () => {
    const pool = (key: string, inFlight: number) => ({ key, connections: { ready: 2, connecting: 1, draining: 0, idle: 1 }, inFlight, queued: 0, opened: 3, connectFailures: 1, connected: 1 });
    const groups: GroupStatsLike[] = [{ name: "orders", endpoints: [pool("10.0.0.1:50051", 4)], draining: [pool("10.0.0.9:50051", 1)] }];
    const { value } = metrics(groups);
    expect(value("sluice_upstream_in_flight", 'upstream="orders",endpoint="10.0.0.1:50051"')).toBe(4);
    expect(value("sluice_upstream_in_flight", 'upstream="orders",endpoint="10.0.0.9:50051"')).toBe(1);
    expect(value("sluice_upstream_connections", 'upstream="orders",endpoint="10.0.0.1:50051",state="connecting"')).toBe(1);
    // 3 dials started, 1 failed, 1 still connecting: the pool counts 1 that succeeded.
    expect(value("sluice_upstream_connections_opened_total", 'upstream="orders",endpoint="10.0.0.1:50051"')).toBe(1);
    expect(value("sluice_upstream_connect_failures_total", 'upstream="orders",endpoint="10.0.0.1:50051"')).toBe(1);
    groups.length = 0;
    expect(value("sluice_upstream_in_flight", 'upstream="orders",endpoint="10.0.0.1:50051"')).toBeUndefined();
  });

  test("resilience hooks: retries, hedges, breaker state", () => {
    const { m, value } = metrics();
    m.retry({ upstream: "orders", method: "/shop.v1.Orders/Place" });
    m.retry({ upstream: "orders", method: "/shop.v1.Orders/Place" });
    m.hedge({ upstream: "orders", method: "/shop.v1.Orders/Get" });
    m.breakerChanged({ name: "orders", to: "open" });
    expect(value("sluice_upstream_retries_total", 'upstream="orders",method="shop.v1.Orders/Place"')).toBe(2);
    expect(value("sluice_upstream_hedges_total", 'upstream="orders",method="shop.v1.Orders/Get"')).toBe(1);
    expect(value("sluice_circuit_breaker_state", 'breaker="orders",state="open"')).toBe(1);
    expect(value("sluice_circuit_breaker_state", 'breaker="orders",state="closed"')).toBe(0);
    m.breakerChanged({ name: "orders", to: "half_open" });
    expect(value("sluice_circuit_breaker_state", 'breaker="orders",state="open"')).toBe(0);
    expect(value("sluice_circuit_breaker_state", 'breaker="orders",state="half_open"')).toBe(1);
  });

  test("per-route series: each record lands in its own route, method, status, upstream and code; none is made early", () => {
    const { m, value } = metrics();
    const routes = ["shop.v1.Orders/Place", "shop.v1.Orders/Get"];
    const expectedBytes = [0, 0];
    for (let i = 0; i < 40; i++) {
      const r = i % 2;
      const status = i % 5 === 0 ? 503 : 200;
      m.requestStarted();
      m.requestFinished(
        rec({
          route: routes[r]!,
          httpMethod: i % 3 === 0 ? "GET" : "POST",
          status,
          code: status === 200 ? "OK" : "UNAVAILABLE",
          outcome: status === 200 ? "ok" : "system_error",
          upstream: i % 4 === 0 ? "orders-b" : "orders",
          bytesOut: i,
          ...(r === 0 ? { bytesIn: 10 } : {}),
        }),
      );
      expectedBytes[r]! += i;
    }
    // Counted by hand from the loop above.
    let placePost200 = 0;
    let getGet503 = 0;
    let placeBUnavailable = 0;
    for (let i = 0; i < 40; i++) {
      const status = i % 5 === 0 ? 503 : 200;
      if (i % 2 === 0 && i % 3 !== 0 && status === 200) placePost200++;
      if (i % 2 === 1 && i % 3 === 0 && status === 503) getGet503++;
      if (i % 2 === 0 && i % 4 === 0 && status === 503) placeBUnavailable++;
    }
    expect(value("sluice_http_requests_total", 'route="shop.v1.Orders/Place",method="POST",status="200"')).toBe(placePost200);
    expect(value("sluice_http_requests_total", 'route="shop.v1.Orders/Get",method="GET",status="503"')).toBe(getGet503);
    expect(value("sluice_http_response_bytes_total", 'route="shop.v1.Orders/Place"')).toBe(expectedBytes[0]);
    expect(value("sluice_http_response_bytes_total", 'route="shop.v1.Orders/Get"')).toBe(expectedBytes[1]);
    expect(value("sluice_http_request_bytes_total", 'route="shop.v1.Orders/Place"')).toBe(200);
    // No request to Get had a Content-Length: its series does not exist (as with labels() on demand).
    expect(value("sluice_http_request_bytes_total", 'route="shop.v1.Orders/Get"')).toBeUndefined();
    expect(value("sluice_upstream_calls_total", 'upstream="orders-b",method="shop.v1.Orders/Place",code="UNAVAILABLE"')).toBe(placeBUnavailable);
    expect(value("sluice_upstream_calls_total", 'upstream="orders-b",method="shop.v1.Orders/Get",code="OK"')).toBeUndefined();
    expect(value("sluice_http_request_duration_seconds_count", 'route="shop.v1.Orders/Get"')).toBe(20);
    expect(value("sluice_upstream_call_duration_seconds_count", 'upstream="orders-b",method="shop.v1.Orders/Place"')).toBe(10);
    expect(value("sluice_http_requests_in_flight", "")).toBe(0);
  });

  test("attempts are counted per upstream, endpoint and code", () => {
    const { m, value } = metrics();
    const outcomes: [string, string, string | undefined][] = [
      ["orders", "10.0.0.1:1", undefined], ["orders", "10.0.0.2:1", undefined], ["orders", "10.0.0.1:1", "UNAVAILABLE"],
      ["orders", "10.0.0.1:1", undefined], ["users", "10.0.0.1:1", undefined], ["orders", "10.0.0.2:1", "UNAVAILABLE"],
    ];
    for (const [upstream, endpoint, code] of outcomes) m.attempt({ upstream, endpoint, ...(code ? { error: { codeName: code } } : {}) });
    const count = (u: string, e: string, c: string) => outcomes.filter(([a, b, x]) => a === u && b === e && (x ?? "OK") === c).length;
    for (const [u, e, c] of [["orders", "10.0.0.1:1", "OK"], ["orders", "10.0.0.1:1", "UNAVAILABLE"], ["orders", "10.0.0.2:1", "OK"], ["orders", "10.0.0.2:1", "UNAVAILABLE"], ["users", "10.0.0.1:1", "OK"]] as const) {
      expect(value("sluice_upstream_attempts_total", `upstream="${u}",endpoint="${e}",code="${c}"`)).toBe(count(u, e, c));
    }
    expect(value("sluice_upstream_attempts_total", 'upstream="users",endpoint="10.0.0.1:1",code="UNAVAILABLE"')).toBeUndefined();
  });
});
