// The demo backend: EchoService and MarketService over gRPC (and TTHeader when available), on loopback.
import { serveGrpc, serveTTHeader, type GrpcServer, type TTHeaderServer } from "../backend/index.ts";
import type { Runtime } from "../runtime/index.ts";
import { registryFromDescriptorSets } from "../transcode/index.ts";
import { echoHandlers, type EchoStats } from "./echo-service.ts";
import { marketHandlers, type MarketStats } from "./market-service.ts";

export interface DemoBackendOptions {
  readonly runtime: Runtime;
  readonly descriptorPath: string;
  readonly host?: string;
  readonly grpcPort?: number;
  readonly ttheaderPort?: number;
  readonly orderLatencyMs?: number;
}

export interface DemoBackend {
  readonly grpcPort: number;
  /** The same services over Kitex TTHeader (mux and pingpong clients on one port). */
  readonly ttheaderPort: number;
  readonly stats: EchoStats & MarketStats & { grpc: GrpcServer["stats"] };
  /** Graceful stop (GOAWAY; in-flight calls finish). */
  stop(): Promise<void>;
  /** Hard stop. */
  kill(): void;
}

export function demoDescriptorPath(): string {
  return decodeURIComponent(new URL("../../idl/descriptors.binpb", import.meta.url).pathname);
}

export async function startDemoBackend(o: DemoBackendOptions): Promise<DemoBackend> {
  const registry = registryFromDescriptorSets([await o.runtime.readFile(o.descriptorPath)]);
  // One object for both services: Object.assign below used to copy the market counters once, so
  // stats.ordersPlaced/ordersCancelled never moved.
  const echoStats: EchoStats & MarketStats = { echoCompleted: 0, echoCancelled: 0, ordersPlaced: 0, ordersCancelled: 0 };
  const marketStats: MarketStats = echoStats;
  const handlers = { ...echoHandlers(echoStats), ...marketHandlers({ orderLatencyMs: o.orderLatencyMs ?? 300 }, marketStats) };
  const service = { registry, handlers };
  const host = o.host ?? "127.0.0.1";
  const grpc = await serveGrpc({ serveH2: o.runtime.serveH2, hostname: host, port: o.grpcPort ?? 0, service });
  const tt: TTHeaderServer = await serveTTHeader({ listenTcp: o.runtime.listenTcp, hostname: host, port: o.ttheaderPort ?? 0, service });
  const stats = Object.assign(echoStats, marketStats, { grpc: grpc.stats });
  return {
    grpcPort: grpc.port,
    ttheaderPort: tt.port,
    stats,
    stop: async () => {
      await Promise.all([grpc.close(), tt.stop()]);
    },
    kill: () => {
      grpc.destroy();
      tt.destroy();
    },
  };
}
