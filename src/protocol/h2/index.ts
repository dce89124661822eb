// HTTP/2 client (h2c, RFC 9113) with HPACK (RFC 7541), over any byte stream. Web-standard APIs only.
export { createH2ClientSession, H2ClientSession, type H2ClientSessionEvents, type H2ClientSessionOptions } from "./client-session.ts";
export type { ClientStream } from "./client-stream.ts";
export type { H2Connect, H2Transport, H2TransportConnectOptions, H2TransportHandlers } from "./transport.ts";
export { ErrorCode, errorCodeName, Flag, FrameType, Setting, CLIENT_PREFACE } from "./constants.ts";
export { H2ConnectionError, HpackError } from "./errors.ts";
export { FrameReader, type FrameHandler } from "./frame-reader.ts";
export { FrameWriter } from "./frame-writer.ts";
export { HpackDecoder, type HeaderMap } from "./hpack-decoder.ts";
export { HpackEncoder } from "./hpack-encoder.ts";
