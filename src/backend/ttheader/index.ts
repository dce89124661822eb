// A TTHeader + KitexProtobuf server for ServiceImplementations (demo backends, tests).
export { serveTTHeader } from "./server.ts";
export type { TTHeaderServeOptions, TTHeaderServer, TTHeaderServerStats } from "./server.ts";
export type { ConnectionFlowOptions } from "./connection-flow.ts";
