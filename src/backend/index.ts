export type * from "./types.ts";
export { BizError } from "./types.ts";
export * from "./method-table.ts";
export { serveGrpc, type GrpcServer, type GrpcServerOptions } from "./grpc/server.ts";
export { serveTTHeader, type TTHeaderServeOptions, type TTHeaderServer, type TTHeaderServerStats } from "./ttheader/index.ts";
