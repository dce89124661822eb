// The built-in demo's gateway config: one upstream pointing at the demo backend (plus its gRPC port for
// streaming methods in the TTHeader modes).
import type { ConfigInput } from "../config/index.ts";

export type DemoProtocol = "grpc" | "ttheader-mux" | "ttheader-pool";

/**
 * The demo's streaming methods. TTHeader carries unary calls only (TTHeader Streaming is another protocol), so
 * in the TTHeader modes these go to the backend's gRPC port, as a Kitex service serves streams over its gRPC
 * transport.
 */
const STREAMING_METHODS = ["demo.v1.EchoService/EchoStream", "demo.v1.EchoService/Collect", "market.v1.MarketService/StreamQuotes"];

/** `grpcPort`: in the TTHeader modes, where the streaming methods go (without it they answer 501). */
export function demoConfig(o: { port: number; host?: string; descriptorPath: string; backendPort: number; protocol: DemoProtocol; grpcPort?: number }): ConfigInput {
  const streams = o.protocol !== "grpc" && o.grpcPort !== undefined;
  const upstream =
    o.protocol === "grpc"
      ? { name: "demo", protocol: "grpc" as const, endpoints: [`127.0.0.1:${o.backendPort}`] }
      : { name: "demo", protocol: "ttheader" as const, mode: o.protocol === "ttheader-mux" ? ("mux" as const) : ("pool" as const), endpoints: [`127.0.0.1:${o.backendPort}`] };
  return {
    listen: { host: o.host ?? "0.0.0.0", port: o.port },
    descriptors: [o.descriptorPath],
    upstreams: streams ? [upstream, { name: "demo-streams", protocol: "grpc" as const, endpoints: [`127.0.0.1:${o.grpcPort}`] }] : [upstream],
    services: [...(streams ? STREAMING_METHODS.map((match) => ({ match, upstream: "demo-streams" })) : []), { match: "*", upstream: "demo" }],
    routes: [
      // Orders are not idempotent and must not be lost when a phone gives up: shielded from disconnects.
      { method: "market.v1.MarketService/PlaceOrder", timeout: "5s", onClientDisconnect: "continue", idempotent: false },
      { method: "market.v1.MarketService/GetOrder", idempotent: true },
      { method: "market.v1.MarketService/GetKLines", idempotent: true },
    ],
  };
}
