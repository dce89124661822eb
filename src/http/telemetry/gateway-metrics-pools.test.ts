// Pool and balancer metrics read from a real upstream group on loopback: one endpoint listens, the other is a
// closed port. A failed dial must not count as an opened connection, and the closed endpoint, ejected by
// outlier detection after its connect failures, shows in the ejection gauge and counter.
import { afterAll, describe, expect, test } from "bun:test";
import { buildUpstream, type BuiltUpstream } from "../../compose/index.ts";
import { parseConfig } from "../../config/index.ts";
import { MetricsRegistry } from "../../observability/index.ts";
import { detectRuntime } from "../../runtime/index.ts";
import { listenTcp } from "../../runtime/shared/node-net.ts";
import type { TcpServerHandle } from "../../runtime/types.ts";
import { GatewayMetrics } from "./gateway-metrics.ts";

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = await listenTcp({ hostname: "127.0.0.1", port: 0 }, () => ({ data() {}, drain() {}, close() {} }));
  const port = s.port;
  await s.close();
  return port;
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("pool and ejection metrics against real dials", () => {
  test("opened_total counts successful dials only; the closed port's failures and its ejection show", async () => {
    const rt = await detectRuntime();
    // TTHeader pool connections are ready once TCP connects: the listening side needs no protocol.
    const server: TcpServerHandle = await listenTcp({ hostname: "127.0.0.1", port: 0 }, () => ({ data() {}, drain() {}, close() {} }));
    cleanup.push(() => server.close());
    const dead = await closedPort();
    const open = `127.0.0.1:${server.port}`;
    const closed = `127.0.0.1:${dead}`;
    const config = parseConfig({
      descriptors: ["x.binpb"],
      upstreams: [
        {
          name: "tt",
          protocol: "ttheader",
          mode: "pool",
          endpoints: [open, closed],
          warmup: 1,
          connectTimeout: "5s",
          breaker: false,
          outlier: { consecutiveConnectFailures: 1, maxEjectionPercent: 50, baseEjection: "5m" },
        },
      ],
      services: [{ match: "*", upstream: "tt" }],
    });
    const up: BuiltUpstream = buildUpstream(config.upstreams[0]!, { runtime: rt });
    cleanup.push(() => up.group.destroy());
    const m = new GatewayMetrics(new MetricsRegistry(), { groups: () => [up.group.stats()] });
    const value = (name: string, endpoint: string) => {
      const line = m.render().split("\n").find((l) => l.startsWith(`${name}{upstream="tt",endpoint="${endpoint}"} `));
      return line === undefined ? undefined : Number(line.split(" ").at(-1));
    };
    await up.group.warmUp();
    const pool = (key: string) => up.group.stats().endpoints.find((p) => p.key === key)!;
    await until(() => pool(closed).connectFailures >= 1 && pool(open).connections.ready >= 1, 10_000);

    // The pool counted the failed dial as started; the metric must not call it opened.
    expect(pool(closed).opened).toBeGreaterThanOrEqual(1);
    expect(value("sluice_upstream_connections_opened_total", closed)).toBe(0);
    expect(value("sluice_upstream_connect_failures_total", closed)).toBeGreaterThanOrEqual(1);
    expect(value("sluice_upstream_connections_opened_total", open)).toBe(1);
    expect(value("sluice_upstream_connect_failures_total", open)).toBe(0);

    // One connect failure ejects the closed endpoint (baseEjection 5m: it stays out during the test).
    await until(() => value("sluice_upstream_endpoint_ejected", closed) === 1, 10_000);
    expect(value("sluice_upstream_endpoint_ejected", open)).toBe(0);
    expect(value("sluice_upstream_ejections_total", closed)).toBe(1);
    expect(value("sluice_upstream_ejections_total", open)).toBe(0);
  }, 30_000);
});
