import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, type MethodRef } from "../core/index.ts";
import type { ResolvedEndpoint, Resolver } from "../discovery/index.ts";
import type { Connection, ConnectionState, EndpointAddress } from "../upstream/index.ts";
import { UpstreamGroup } from "./upstream-group.ts";

const method: MethodRef = { service: "t.v1.S", method: "M", path: "/t.v1.S/M" } as MethodRef;

/** A connection answering with its endpoint's port, or failing as never sent when told to. */
function fakeConnection(address: EndpointAddress, id: number, refuse: ReadonlySet<number>): Connection {
  const now = Date.now();
  let active = 0;
  return {
    id,
    protocol: "grpc",
    endpoint: `${address.host}:${address.port}`,
    get state(): ConnectionState {
      return "ready";
    },
    get active() {
      return active;
    },
    capacity: 100,
    lastUsedAt: now,
    createdAt: now,
    ready: Promise.resolve(),
    async unary() {
      active++;
      await null;
      active--;
      if (refuse.has(address.port)) throw new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: "upstream_refused", message: "refused", neverSent: true });
      return { message: new Uint8Array([address.port & 0xff]), metadata: {} };
    },
    stream() {
      throw new Error("no streams here");
    },
    drain() {},
    destroy() {},
    onStateChange: () => () => {},
    stats: () => ({ id, protocol: "grpc", state: "ready", active, capacity: 100, createdAt: now, lastUsedAt: now, callsTotal: 0 }),
  };
}

/** A resolver whose answers the test sets. */
function manualResolver(initial: ResolvedEndpoint[]) {
  let current = initial;
  const listeners = new Set<(e: readonly ResolvedEndpoint[]) => void>();
  const resolver: Resolver = {
    start() {},
    stop() {},
    current: () => current,
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onError: () => () => {},
    refresh() {},
    ready: async () => {},
    stats: () => ({}) as ReturnType<Resolver["stats"]>,
  };
  return {
    resolver,
    set(next: ResolvedEndpoint[]) {
      current = next;
      for (const fn of listeners) fn(next);
    },
  };
}

const ep = (port: number): ResolvedEndpoint => ({ address: "127.0.0.1", port, weight: 1, key: `127.0.0.1:${port}`, host: "localhost" }) as ResolvedEndpoint;

function group(resolver: Resolver | undefined, refuse: ReadonlySet<number> = new Set()) {
  return new UpstreamGroup(
    {
      name: "u",
      protocol: "grpc",
      createConnection: (a, id) => fakeConnection(a, id, refuse),
      pool: { minConnections: 0, maxConnections: 1, maxConcurrentPerConnection: 100, idleTimeoutMs: 0, maxIdle: 1, queueSize: 10, queueTimeoutMs: 1000 },
      outlier: false,
      warmupConnections: 0,
    },
    resolver,
  );
}

describe("UpstreamGroup picking", () => {
  test("with endpoints known, calls are spread over them and each outcome is reported", async () => {
    const g = group(manualResolver([ep(1001), ep(1002)]).resolver);
    const outcomes: string[] = [];
    g.onOutcome.on((o) => void outcomes.push(o.endpoint));
    const replies = await Promise.all([1, 2, 3, 4].map(() => g.unary(new Uint8Array(), { method, deadline: Date.now() + 1000 })));
    expect(new Set(replies.map((r) => r.message[0])).size).toBe(2);
    expect(outcomes.sort()).toEqual(["127.0.0.1:1001", "127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1002"]);
    g.destroy();
  });

  test("before the first endpoint list, a call waits for it", async () => {
    const g = group(undefined);
    const call = g.unary(new Uint8Array(), { method, deadline: Date.now() + 5000 });
    setTimeout(() => g.setEndpoints([ep(1003)]), 20);
    expect((await call).message[0]).toBe(1003 & 0xff);
    g.destroy();
  });

  test("with no endpoint list until the deadline, the call fails as no_endpoints (discovery pending)", async () => {
    const g = group(undefined);
    const err = await g.unary(new Uint8Array(), { method, deadline: Date.now() + 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).reason).toBe("no_endpoints");
    expect((err as GatewayError).message).toContain("discovery pending");
    g.destroy();
  });

  test("an empty endpoint list fails the call at once", async () => {
    const g = group(manualResolver([]).resolver);
    const err = await g.unary(new Uint8Array(), { method, deadline: Date.now() + 60_000 }).catch((e: unknown) => e);
    expect((err as GatewayError).reason).toBe("no_endpoints");
    expect((err as GatewayError).message).not.toContain("discovery pending");
    g.destroy();
  });

  test("a never-sent failure is retried once, on another endpoint", async () => {
    const refuse = new Set([1004]);
    const g = group(manualResolver([ep(1004), ep(1005)]).resolver, refuse);
    let retried = 0;
    for (let i = 0; i < 4; i++) {
      const used: string[] = [];
      const reply = await g.unary(new Uint8Array(), { method, deadline: Date.now() + 1000 }, { transparentRetry: true, markEndpoint: (k) => void used.push(k) });
      expect(reply.message[0]).toBe(1005 & 0xff);
      // Either straight to the good endpoint, or the refused one and then the other.
      expect(used).toEqual(used.length === 1 ? ["127.0.0.1:1005"] : ["127.0.0.1:1004", "127.0.0.1:1005"]);
      if (used.length === 2) retried++;
    }
    expect(retried).toBeGreaterThan(0);
    // Without the transparent retry the refusal is the answer.
    const both = new Set([1004, 1005]);
    const g2 = group(manualResolver([ep(1004), ep(1005)]).resolver, both);
    const err = await g2.unary(new Uint8Array(), { method, deadline: Date.now() + 1000 }, { transparentRetry: true }).catch((e: unknown) => e);
    expect((err as GatewayError).reason).toBe("upstream_refused");
    g.destroy();
    g2.destroy();
  });

  test("endpoints excluded by the policy are avoided while others exist", async () => {
    const g = group(manualResolver([ep(1006), ep(1007)]).resolver);
    for (let i = 0; i < 6; i++) {
      const reply = await g.unary(new Uint8Array(), { method, deadline: Date.now() + 1000 }, { excluded: new Set(["127.0.0.1:1006"]) });
      expect(reply.message[0]).toBe(1007 & 0xff);
    }
    g.destroy();
  });
});
