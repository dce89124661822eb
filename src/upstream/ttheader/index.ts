// TTHeader + KitexProtobuf upstream connections (mux and pingpong).
export { TTHeaderConnection, createMuxConnection, createPingpongConnection } from "./connection.ts";
export type { TTHeaderConnectionStats, TTHeaderMode } from "./connection.ts";
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_KEEPALIVE_MS, DEFAULT_MUX_CAPACITY } from "./options.ts";
export type { TTHeaderConnectionOptions } from "./options.ts";
export { buildRequestHeaders, metadataToStrHeaders } from "./request-headers.ts";
export { interpretReply, replyMetadata } from "./reply.ts";
