// An upstream connection without a socket: answers each unary call with its request bytes (the demo
// EchoResponse has the same fields as EchoRequest) one microtask later. For measuring the gateway's
// own cost apart from its upstream transport (bench/inproc.ts, bench/fake-upstream-gateway.ts).
import { GatewayError, GrpcCode } from "../src/core/index.ts";
import type { Connection, ConnectionState } from "../src/upstream/index.ts";

export function fakeConnection(id: number, endpoint: string): Connection {
  let active = 0;
  let calls = 0;
  const now = Date.now();
  return {
    id,
    protocol: "grpc",
    endpoint,
    get state(): ConnectionState {
      return "ready";
    },
    get active() {
      return active;
    },
    capacity: 1 << 20,
    lastUsedAt: now,
    createdAt: now,
    ready: Promise.resolve(),
    async unary(request) {
      active++;
      calls++;
      await null; // the reply arrives later, as from a socket
      active--;
      return { message: request, metadata: {} };
    },
    stream() {
      throw new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: "unsupported", message: "no streams in this harness" });
    },
    drain() {},
    destroy() {},
    onStateChange: () => () => {},
    stats: () => ({ id, protocol: "grpc", state: "ready", active, capacity: 1 << 20, createdAt: now, lastUsedAt: now, callsTotal: calls }),
  };
}
