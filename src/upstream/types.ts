/**
 * What every upstream connection offers, whatever its wire protocol (gRPC over
 * HTTP/2, TTHeader mux, TTHeader pingpong). Pools and balancers only see this.
 * Messages are already-serialized protobuf bytes; transcoding happens above.
 */

import type { MethodRef } from "../core/index.ts";
export type { MethodRef };

export interface CallOptions {
  readonly method: MethodRef;
  /** Forwarded metadata, lower-case keys (gRPC metadata; TTHeader RPC_TRANSIT_ keys). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Absolute deadline in ms since epoch (Date.now clock); sent upstream as the remaining time. */
  readonly deadline?: number;
  /** Aborting cancels the call upstream (RST_STREAM / stop waiting and free the slot). */
  readonly signal?: AbortSignal;
  /** Largest reply message accepted, in bytes. */
  readonly maxReplyBytes?: number;
}

export interface UnaryReply {
  readonly message: Uint8Array;
  /** Reply headers/trailers worth surfacing (lower-case keys). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** A streaming call: requests go in as an async iterable, replies come out as one. */
export interface StreamReply {
  readonly messages: AsyncIterable<Uint8Array>;
  /** Resolves with trailing metadata once the stream ended OK; the iterator throws on error. */
  readonly metadata: Promise<Readonly<Record<string, string>>>;
}

export type ConnectionState = "connecting" | "ready" | "draining" | "closed";

export interface ConnectionStats {
  readonly id: number;
  readonly protocol: string;
  readonly state: ConnectionState;
  readonly active: number;
  readonly capacity: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly callsTotal: number;
}

/**
 * One upstream connection. Errors are GatewayError (src/core) with
 * neverSent=true when the call provably never reached the wire.
 */
export interface Connection {
  readonly id: number;
  readonly protocol: "grpc" | "ttheader-mux" | "ttheader-pool";
  /** "ip:port" as connected. */
  readonly endpoint: string;
  readonly state: ConnectionState;
  /** Calls in flight. */
  readonly active: number;
  /** Most calls it accepts at once (HTTP/2 MAX_CONCURRENT_STREAMS, 1 for pingpong). */
  readonly capacity: number;
  readonly lastUsedAt: number;
  readonly createdAt: number;
  /** Resolves when usable; rejects with a GatewayError on connect failure/timeout. */
  readonly ready: Promise<void>;
  unary(request: Uint8Array, options: CallOptions): Promise<UnaryReply>;
  /** Server, client or bidi streaming. Not every protocol supports it (TTHeader: UNIMPLEMENTED). */
  stream(requests: AsyncIterable<Uint8Array>, options: CallOptions): StreamReply;
  /** Stop taking calls; close once the ones in flight finish. */
  drain(): void;
  /** Close now; calls in flight fail with UNAVAILABLE. */
  destroy(reason?: Error): void;
  /** Subscribe to state changes (draining on GOAWAY/crrst, closed). Returns unsubscribe. */
  onStateChange(fn: (state: ConnectionState) => void): () => void;
  stats(): ConnectionStats;
}

export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
}
