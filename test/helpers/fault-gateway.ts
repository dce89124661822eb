// A gateway for fault tests: loopback, ephemeral port, config given per test (upstreams and routes),
// optional DNS override, plus in-process demo backends on chosen addresses.
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import type { LookupFn } from "../../src/discovery/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime, type Runtime } from "../../src/runtime/index.ts";
import { DESCRIPTORS, quietLogger } from "./stack.ts";

export type UpstreamInput = ConfigInput["upstreams"][number];
export type RouteInput = NonNullable<ConfigInput["routes"]>[number];

let rt: Runtime | undefined;
export async function runtime(): Promise<Runtime> {
  return (rt ??= await detectRuntime());
}

export async function startFaultGateway(o: {
  upstream: UpstreamInput;
  routes?: RouteInput[];
  descriptors?: string;
  lookup?: LookupFn;
  defaults?: ConfigInput["defaults"];
  /** Default 0 (ephemeral). */
  listenPort?: number;
}): Promise<Gateway> {
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: o.listenPort ?? 0 },
    descriptors: [o.descriptors ?? DESCRIPTORS],
    upstreams: [o.upstream],
    services: [{ match: "*", upstream: o.upstream.name }],
    routes: o.routes ?? [],
    defaults: o.defaults,
  });
  return startGateway({ config, runtime: await runtime(), lookup: o.lookup, logger: quietLogger() });
}

export async function startBackend(o: { host?: string; port?: number; ttheaderPort?: number; orderLatencyMs?: number } = {}): Promise<DemoBackend> {
  return startDemoBackend({
    runtime: await runtime(), descriptorPath: DESCRIPTORS, host: o.host ?? "127.0.0.1", grpcPort: o.port ?? 0, ttheaderPort: o.ttheaderPort ?? 0, orderLatencyMs: o.orderLatencyMs ?? 50,
  });
}

/** The upstream protocols fault tests run over, as config fragments. */
export const PROTOCOLS = {
  grpc: { protocol: "grpc" },
  /** gRPC through our own HTTP/2 client (src/protocol/h2) instead of the runtime's node:http2. */
  "grpc-sluice": { protocol: "grpc", http2Client: "sluice" },
  "ttheader-mux": { protocol: "ttheader", mode: "mux" },
  "ttheader-pool": { protocol: "ttheader", mode: "pool" },
} as const satisfies Record<string, Partial<UpstreamInput>>;
export type ProtocolName = keyof typeof PROTOCOLS;

/** The port a demo backend serves a protocol on. */
export function portFor(b: { grpcPort?: number; port?: number; ttheaderPort: number }, p: ProtocolName): number {
  return PROTOCOLS[p].protocol === "grpc" ? (b.grpcPort ?? b.port)! : b.ttheaderPort;
}

/** The admin view of one upstream (GET /admin/upstreams). */
export async function adminUpstream(gw: Gateway, name: string): Promise<AdminUpstream> {
  const res = await fetch(`${gw.url}/admin/upstreams`);
  const body = (await res.json()) as { upstreams: AdminUpstream[] };
  const u = body.upstreams.find((x) => x.name === name);
  if (!u) throw new Error(`no upstream ${name} in /admin/upstreams`);
  return u;
}

export interface AdminPool {
  key: string;
  connections: { ready: number; connecting: number; draining: number; idle: number };
  inFlight: number;
  queued: number;
  opened: number;
  connectFailures: number;
  details: { id: number; state: string; active: number; callsTotal: number }[];
}

export interface AdminUpstream {
  name: string;
  protocol: string;
  balancer: { endpoints: { key: string; ejected: boolean; [k: string]: unknown }[]; [k: string]: unknown };
  endpoints: AdminPool[];
  draining: AdminPool[];
  breaker?: { state: string; [k: string]: unknown };
  bulkhead?: unknown;
  retryBudget: { tokens: number; maxTokens: number; throttled: number };
}

/** Counts failed attempts (retried or not) by reason, from the group's outcome events. */
export function countAttemptErrors(gw: Gateway, upstream: string): Record<string, number> {
  const counts: Record<string, number> = {};
  gw.groups.get(upstream)!.onOutcome.on((o) => {
    if (o.error) counts[o.error.reason] = (counts[o.error.reason] ?? 0) + 1;
  });
  return counts;
}
