export type * from "./types.ts";
export * from "./pool.ts";
export { createGrpcConnection, type GrpcConnectionOptions, type GrpcKeepaliveOptions } from "./grpc/connection.ts";
export { createMuxConnection, createPingpongConnection, type TTHeaderConnectionOptions } from "./ttheader/index.ts";
