/**
 * The server kit: descriptor-driven handlers served over gRPC (HTTP/2) and
 * TTHeader (TCP). Handlers take and return plain JSON-shaped protobuf-es
 * message objects; the servers do the binary (de)serialization by reflection.
 */
import type { DescMethod, Registry } from "@bufbuild/protobuf";

export interface HandlerContext {
  /** Request metadata, lower-case keys (gRPC metadata or TTHeader transit keys). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Aborted when the caller cancels (RST_STREAM, connection loss) or the deadline passes. */
  readonly signal: AbortSignal;
  /** Absolute deadline (ms since epoch) if the caller sent one. */
  readonly deadline: number | undefined;
  readonly method: DescMethod;
  /** Headers to send back (gRPC initial metadata / TTHeader reply string headers). */
  readonly responseMetadata: Record<string, string>;
}

// Handlers see protobuf-es message objects (create(desc, init) shapes).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = any;

export type UnaryHandler = (req: Msg, ctx: HandlerContext) => Msg | Promise<Msg>;
export type ServerStreamHandler = (req: Msg, ctx: HandlerContext) => AsyncIterable<Msg>;
export type ClientStreamHandler = (reqs: AsyncIterable<Msg>, ctx: HandlerContext) => Msg | Promise<Msg>;
export type BidiStreamHandler = (reqs: AsyncIterable<Msg>, ctx: HandlerContext) => AsyncIterable<Msg>;
export type AnyHandler = UnaryHandler | ServerStreamHandler | ClientStreamHandler | BidiStreamHandler;

/** "demo.v1.EchoService/Echo" -> handler. */
export type HandlerMap = Readonly<Record<string, AnyHandler>>;

export interface ServiceImplementation {
  readonly registry: Registry;
  readonly handlers: HandlerMap;
}

/**
 * Thrown by handlers: a gRPC status, or (TTHeader) a business error that
 * travels as biz-status/biz-message/biz-extra headers instead of an exception.
 * Use core's GatewayError for system errors; this adds only the business kind.
 */
export class BizError extends Error {
  readonly bizStatus: number;
  readonly bizExtra: Record<string, string> | undefined;
  constructor(bizStatus: number, message: string, extra?: Record<string, string>) {
    super(message);
    this.name = "BizError";
    this.bizStatus = bizStatus;
    this.bizExtra = extra;
  }
}
