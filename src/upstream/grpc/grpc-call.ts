// One gRPC call on an HTTP/2 stream: request headers, envelopes out, envelopes in, status from trailers.
// Source: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
import { AsyncQueue, GatewayError, GrpcCode, Reason } from "../../core/index.ts";
import { EnvelopeDecoder, encodeEnvelope, encodeGrpcTimeout, headerValue, readStatus, type GrpcStatus } from "../../protocol/grpc/index.ts";
import { waitForDrain, type H2Session, type H2Stream } from "../../runtime/index.ts";
import type { CallOptions, StreamReply, UnaryReply } from "../types.ts";
import { cancelledError, connectionLostError, deadlineError, H2_CANCEL, notSentError, streamResetError } from "./call-errors.ts";

/** Request headers never taken from forwarded metadata (we set them, or they are connection-specific). */
const RESERVED = new Set(["content-type", "te", "grpc-timeout", "user-agent", "host", "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "grpc-encoding", "grpc-accept-encoding"]);

export interface CallContext {
  readonly session: H2Session;
  readonly endpoint: string;
  readonly scheme: string;
  readonly authority: string;
  readonly userAgent: string;
  readonly maxMessageBytes: number;
  /** Our HTTP/2 stream receive window (SETTINGS_INITIAL_WINDOW_SIZE we sent); default 4 MiB, the runtime's. */
  readonly streamWindowBytes?: number;
  /** Set by the connection when GOAWAY arrives: streams above it were never processed (RFC 9113 6.8). */
  goawayLastStreamId(): number | undefined;
}

export function requestHeaders(ctx: CallContext, o: CallOptions): Record<string, string> {
  const h: Record<string, string> = {
    ":method": "POST",
    ":scheme": ctx.scheme,
    ":authority": ctx.authority,
    ":path": o.method.path,
    "content-type": "application/grpc+proto",
    te: "trailers",
    "user-agent": ctx.userAgent,
  };
  if (o.deadline !== undefined) h["grpc-timeout"] = encodeGrpcTimeout(Math.max(1, o.deadline - Date.now()));
  if (o.metadata) {
    for (const k in o.metadata) {
      if (k[0] === ":" || RESERVED.has(k)) continue;
      h[k] = o.metadata[k]!;
    }
  }
  return h;
}

function statusError(s: GrpcStatus, endpoint: string): GatewayError {
  return new GatewayError({
    code: s.code as GrpcCode,
    reason: s.biz ? Reason.bizError : Reason.upstreamStatus,
    biz: s.biz,
    message: s.message,
    endpoint,
    pushbackMs: s.pushbackMs,
    details: s.detailsBin ? [{ "@bin": s.detailsBin }] : undefined,
  });
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    if (k[0] === ":" || k === "content-type" || k.startsWith("grpc-")) continue;
    const v = h[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/**
 * Runs a call. `onMessage` gets each reply message; returns a promise of the
 * reply metadata that settles when the call ends. The returned `stream` lets
 * the caller apply back-pressure (pause/resume).
 */
export function startCall(
  ctx: CallContext,
  o: CallOptions,
  onMessage: (m: Uint8Array) => void,
  body: Uint8Array | undefined,
): { stream: H2Stream | undefined; done: Promise<Record<string, string>> } {
  let stream: H2Stream;
  try {
    stream = ctx.session.request(requestHeaders(ctx, o), { endStream: false });
  } catch (e) {
    return { stream: undefined, done: Promise.reject(notSentError(ctx.endpoint, e instanceof Error ? e.message : "session closed")) };
  }
  const done = new Promise<Record<string, string>>((resolve, reject) => {
    const decoder = new EnvelopeDecoder(o.maxReplyBytes ?? ctx.maxMessageBytes);
    let settled = false;
    let sawResponse = false;
    let status: GrpcStatus | undefined;
    let meta: Record<string, string> = {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (err: GatewayError | undefined) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(meta);
    };
    const fail = (err: GatewayError) => {
      finish(err);
      if (!stream.destroyed) stream.close(H2_CANCEL);
    };
    const onAbort = () => fail(cancelledError(o.signal!.reason));
    if (o.signal) {
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener("abort", onAbort, { once: true });
    }
    if (o.deadline !== undefined) {
      timer = setTimeout(() => fail(deadlineError(ctx.endpoint)), Math.max(0, o.deadline - Date.now()));
    }
    stream.on("response", (h) => {
      sawResponse = true;
      const st = Number(h[":status"]);
      const ct = headerValue(h, "content-type");
      status = readStatus(h); // trailers-only reply
      if (st !== 200 || (ct !== undefined && !ct.startsWith("application/grpc"))) {
        if (!status) {
          fail(
            new GatewayError({
              code: st === 200 ? GrpcCode.UNKNOWN : st === 503 || st === 502 || st === 504 || st === 429 ? GrpcCode.UNAVAILABLE : GrpcCode.INTERNAL,
              reason: Reason.upstreamProtocol,
              message: `upstream ${ctx.endpoint} answered HTTP ${st} with content-type ${ct ?? "(none)"}, not gRPC`,
              endpoint: ctx.endpoint,
            }),
          );
          return;
        }
      }
      meta = flatten(h);
    });
    stream.on("data", (chunk) => {
      if (settled) return;
      try {
        decoder.push(chunk, onMessage);
      } catch (e) {
        fail(e as GatewayError);
      }
    });
    stream.on("trailers", (h) => {
      status = readStatus(h) ?? status;
      Object.assign(meta, flatten(h));
    });
    stream.on("error", () => {
      // The reason surfaces in 'close' via rstCode; swallow here so it isn't unhandled.
    });
    stream.on("close", () => {
      if (settled) return;
      if (status) {
        if (status.code !== 0) return finish(statusError(status, ctx.endpoint));
        try {
          decoder.finish();
        } catch (e) {
          return finish(e as GatewayError);
        }
        return finish(undefined);
      }
      const last = ctx.goawayLastStreamId();
      if (!sawResponse && last !== undefined && stream.id !== undefined && stream.id > last) {
        return finish(notSentError(ctx.endpoint, "server sent GOAWAY"));
      }
      if (!sawResponse && stream.id === undefined) {
        return finish(notSentError(ctx.endpoint, "stream was never opened"));
      }
      // A dropped connection closes its streams with a synthesized CANCEL (Node and Bun do; grpc-js
      // subchannel-call.ts reports UNAVAILABLE "Connection dropped" for the same reason). The upstream went
      // away: that is UNAVAILABLE (retryable, blames the endpoint), not a cancellation (HTTP 499).
      if (ctx.session.closed && (stream.rstCode === H2_CANCEL || stream.rstCode === undefined)) {
        return finish(connectionLostError(ctx.endpoint));
      }
      finish(streamResetError(ctx.endpoint, stream.rstCode, sawResponse));
    });
    if (body) stream.end(encodeEnvelope(body));
  });
  return { stream, done };
}

export function unaryCall(ctx: CallContext, request: Uint8Array, o: CallOptions): Promise<UnaryReply> {
  let message: Uint8Array | undefined;
  let count = 0;
  const { done } = startCall(ctx, o, (m) => {
    message = m;
    count++;
  }, request);
  return done.then((metadata) => {
    if (count !== 1) {
      throw new GatewayError({
        code: GrpcCode.UNIMPLEMENTED,
        reason: Reason.upstreamProtocol,
        message: `upstream ${ctx.endpoint} sent ${count} messages for a unary call`,
        endpoint: ctx.endpoint,
      });
    }
    return { message: message!, metadata };
  });
}

/** The runtime's default SETTINGS_INITIAL_WINDOW_SIZE (src/runtime/shared/node-http2.ts). */
const DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024;

/**
 * A streaming call whose replies are read only as fast as the consumer takes them: reply bytes
 * waiting for the consumer are kept between one and two stream windows. Above two windows the
 * HTTP/2 stream is paused, which stops our WINDOW_UPDATEs (RFC 9113 6.9), so the server stops
 * sending; below one window it resumes. Counting bytes rather than messages, and letting at least a
 * full window through between a resume and the next pause, also keeps Bun's node:http2 client
 * bounded: it re-opens the whole stream window on every resume() (counting data it still holds
 * for us as consumed), so pausing after less than a window of progress lets the peer run ahead by
 * the difference on every pause/resume cycle (measured on Bun 1.4.5; a slow HTTP client drove it
 * past 1 GiB). Per stream this holds at most 2 windows + one message here and a window in flight.
 */
export function streamingCall(ctx: CallContext, requests: AsyncIterable<Uint8Array>, o: CallOptions): StreamReply {
  let stream: H2Stream | undefined;
  const window = ctx.streamWindowBytes ?? DEFAULT_STREAM_WINDOW;
  let queued = 0;
  let paused = false;
  const queue = new AsyncQueue<Uint8Array>({
    highWater: Number.MAX_SAFE_INTEGER, // flow control is by bytes, below
    onCancel: () => {
      if (stream && !stream.destroyed) stream.close(H2_CANCEL);
    },
  });
  const started = startCall(ctx, o, (m) => {
    queue.push(m);
    queued += m.byteLength;
    if (!paused && queued >= 2 * window) {
      paused = true;
      stream?.pause();
    }
  }, undefined);
  stream = started.stream;
  const metadata = started.done.then(
    (meta) => {
      queue.end();
      return meta;
    },
    (err) => {
      queue.fail(err);
      throw err;
    },
  );
  metadata.catch(() => {});
  if (stream) void pumpRequests(stream, requests);
  const messages: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await queue.next();
        if (!r.done) {
          queued -= r.value.byteLength;
          if (paused && queued <= window) {
            paused = false;
            stream?.resume();
          }
        }
        return r;
      },
      return: (): Promise<IteratorResult<Uint8Array>> => {
        queue.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    }),
  };
  return { messages, metadata };
}

async function pumpRequests(stream: H2Stream, requests: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const m of requests) {
      if (stream.destroyed) return;
      if (!stream.write(encodeEnvelope(m))) {
        await waitForDrain(stream);
      }
    }
    if (!stream.destroyed) stream.end();
  } catch {
    if (!stream.destroyed) stream.close(H2_CANCEL);
  }
}
