// The built-in demo's gateway config: one upstream pointing at the demo backend.
import type { ConfigInput } from "../config/index.ts";

export type DemoProtocol = "grpc" | "ttheader-mux" | "ttheader-pool";

export function demoConfig(o: { port: number; host?: string; descriptorPath: string; backendPort: number; protocol: DemoProtocol }): ConfigInput {
  const upstream =
    o.protocol === "grpc"
      ? { name: "demo", protocol: "grpc" as const, endpoints: [`127.0.0.1:${o.backendPort}`] }
      : { name: "demo", protocol: "ttheader" as const, mode: o.protocol === "ttheader-mux" ? ("mux" as const) : ("pool" as const), endpoints: [`127.0.0.1:${o.backendPort}`] };
  return {
    listen: { host: o.host ?? "0.0.0.0", port: o.port },
    descriptors: [o.descriptorPath],
    upstreams: [upstream],
    services: [{ match: "*", upstream: "demo" }],
    routes: [
      // Orders are not idempotent and must not be lost when a phone gives up: shielded from disconnects.
      { method: "market.v1.MarketService/PlaceOrder", timeout: "5s", onClientDisconnect: "continue", idempotent: false },
      { method: "market.v1.MarketService/GetOrder", idempotent: true },
      { method: "market.v1.MarketService/GetKLines", idempotent: true },
    ],
  };
}
