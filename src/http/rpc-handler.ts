// HTTP request -> upstream call -> HTTP response, for one resolved method.
// Unary: JSON in, JSON out. Server streaming: NDJSON / SSE / JSON array out, pulled as the client reads
// (so HTTP back-pressure reaches upstream flow control). Client streaming: NDJSON lines in, each sent
// upstream as it arrives. Replies are written as JSON bytes straight from the wire format where the
// codec can (transcode/json-writer.ts), and compressed when the client accepts it (compression.ts).
import type { JsonValue } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, Reason, textEncoder } from "../core/index.ts";
import type { Invoker, RoutePolicy, UpstreamGroup } from "../rpc/index.ts";
import { createStreamFramer, streamFormatFor, type JsonCodec, type MethodInfo } from "../transcode/index.ts";
import { bodyDeadlineMs, ndjsonLines, parseJsonBody, readBodyLimited } from "./body.ts";
import { compressedBody, compressedStream, defaultCompression, type CompressionOptions } from "./compression.ts";
import { errorBody, errorResponse, type ErrorBodyOptions } from "./error-response.ts";
import { rateLimitKey, type KeyInputs } from "./rate-limit-key.ts";
import { sizedResponse } from "./sized-response.ts";
import { requestedTimeoutMs } from "./timeout-header.ts";

export interface RpcTarget {
  readonly method: MethodInfo;
  readonly group: UpstreamGroup;
  readonly policy: RoutePolicy;
  /** Rate-limit key source: "ip" (default), "header:<name>", "metadata:<name>" or "claim:<name>" (rate-limit-key.ts). */
  readonly rateLimitKey?: string;
  /** Bound on reading the request body (unary, with the call's deadline) and on each NDJSON line; default none. */
  readonly bodyReadTimeoutMs?: number;
}

export interface RpcHandlerDeps {
  readonly codec: JsonCodec;
  readonly invoker: Invoker;
  readonly errorOptions: Omit<ErrorBodyOptions, "requestId" | "traceId">;
  /** Headers forwarded upstream as metadata (lower-case names). */
  readonly forwardHeaders: readonly string[];
  /** Reply compression; default: on, from 1 KiB, whole bodies only (see compression.ts). */
  readonly compression?: CompressionOptions;
}

/** Turns the request into the message JSON; for annotated routes this merges path, query and body. */
export type Binder = (body: unknown) => JsonValue;

const JSON_HEADERS = { "content-type": "application/json" };

function checkContentType(req: Request, allowNdjson: boolean): void {
  const ct = req.headers.get("content-type");
  if (ct === null || ct === "application/json" || req.method === "GET" || req.method === "DELETE") return;
  const base = ct.split(";")[0]!.trim().toLowerCase();
  if (base === "application/json" || base === "" || base.endsWith("+json") || base === "text/plain") return;
  if (allowNdjson && (base === "application/x-ndjson" || base === "application/jsonl")) return;
  // curl -d sends application/x-www-form-urlencoded by default; its body is still our JSON.
  if (base === "application/x-www-form-urlencoded") return;
  throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.unsupportedMediaType, message: `unsupported content-type "${ct}"; send application/json` });
}

export async function handleRpc(
  req: Request,
  target: RpcTarget,
  bind: Binder,
  deps: RpcHandlerDeps,
  ids: { requestId?: string; traceId?: string; receivedAt?: number } & KeyInputs,
  metadata: Record<string, string>,
  select?: (json: JsonValue) => JsonValue,
): Promise<Response> {
  const { method, policy } = target;
  // Only rate-limited routes need a client key (reading the peer address costs a syscall on Bun).
  const clientKey = policy.calls?.parts.rateLimit ? rateLimitKey(target.rateLimitKey ?? "ip", req, metadata, ids) : undefined;
  // A bad NDJSON line fails the upstream call (we cancel it); the client is told about the line.
  const input: { error?: unknown } = {};
  try {
    const kind = method.kind;
    checkContentType(req, kind === "client_streaming" || kind === "bidi_streaming");
    const requested = requestedTimeoutMs(req.headers);
    // The deadline counts from the request's arrival: reading the body spends the call's time.
    const receivedAt = ids.receivedAt ?? Date.now();
    const invokeOpts = { group: target.group, method: method.ref, policy, metadata, clientSignal: req.signal, requestedTimeoutMs: requested, clientKey, receivedAt };
    if (kind === "unary" || kind === "server_streaming") {
      const readMs = bodyDeadlineMs(target.bodyReadTimeoutMs, policy.timeoutMs, policy.maxTimeoutMs, requested);
      const body = req.method === "GET" || req.method === "DELETE" ? {} : parseJsonBody(await readBodyLimited(req, policy.maxBodyBytes, readMs));
      const encoded = deps.codec.encode(method.input, bind(body));
      if (!encoded.ok) throw encoded.error;
      if (kind === "unary") {
        const reply = await deps.invoker.unary(encoded.value, invokeOpts);
        return jsonReply(req, deps, method, reply.message, select, ids.requestId);
      }
      const reply = await deps.invoker.stream(single(encoded.value), invokeOpts);
      return await streamResponse(req, reply.messages, method, deps, errorOptions(deps, ids));
    }
    // Client (or bidi) streaming: each NDJSON line becomes a message as it arrives.
    const requests = encodeLines(ndjsonLines(req, policy.maxBodyBytes, Number.MAX_SAFE_INTEGER, target.bodyReadTimeoutMs), method, deps, bind, input);
    // Their input is the client's body: once the client is cut off the call can't go on, so it is cancelled.
    const reply = await deps.invoker.stream(requests, { ...invokeOpts, policy: { ...policy, streamOnClientDisconnect: "cancel" } });
    if (kind === "client_streaming") {
      let last: Uint8Array | undefined;
      for await (const m of reply.messages) last = m;
      if (input.error !== undefined) throw input.error;
      if (!last) throw new GatewayError({ code: GrpcCode.INTERNAL, reason: Reason.upstreamProtocol, message: "upstream sent no reply message" });
      return jsonReply(req, deps, method, last, select, ids.requestId);
    }
    return await streamResponse(req, reply.messages, method, deps, errorOptions(deps, ids), input);
  } catch (e) {
    return errorResponse(input.error ?? e, errorOptions(deps, ids));
  }
}

/** Error body options: built when needed (an error, or a stream that may end in one). */
function errorOptions(deps: RpcHandlerDeps, ids: { requestId?: string; traceId?: string }): ErrorBodyOptions {
  return { ...deps.errorOptions, requestId: ids.requestId, traceId: ids.traceId };
}

function jsonReply(req: Request, deps: RpcHandlerDeps, method: MethodInfo, message: Uint8Array, select: ((json: JsonValue) => JsonValue) | undefined, requestId: string | undefined): Response {
  const bytes = select ? textEncoder.encode(JSON.stringify(select(deps.codec.decode(method.output, message)))) : deps.codec.decodeToBytes(method.output, message);
  const compression = deps.compression ?? defaultCompression;
  // Not compressed either way: the header set is known without building and editing a Headers object
  // (what compressedBody leaves on JSON_HEADERS: Vary when compression is on), and carries the request
  // id the request scope would add.
  if (!compression.enabled || bytes.byteLength < compression.thresholdBytes) {
    const h: Record<string, string> = compression.enabled ? { "content-type": "application/json", vary: "Accept-Encoding" } : { "content-type": "application/json" };
    if (requestId !== undefined) h["x-request-id"] = requestId;
    return sizedResponse(bytes, { status: 200, headers: h }, requestId);
  }
  const headers = new Headers(JSON_HEADERS);
  const body = compressedBody(req, bytes, headers, compression);
  // Uncompressed bytes: the request scope can count them without reading the body back.
  return body === bytes ? sizedResponse(bytes, { status: 200, headers }) : new Response(body, { status: 200, headers });
}

async function* single(m: Uint8Array): AsyncGenerator<Uint8Array> {
  yield m;
}

async function* encodeLines(lines: AsyncIterable<unknown>, method: MethodInfo, deps: RpcHandlerDeps, bind: Binder, input: { error?: unknown }): AsyncGenerator<Uint8Array> {
  try {
    for await (const line of lines) {
      const r = deps.codec.encode(method.input, bind(line));
      if (!r.ok) throw r.error;
      yield r.value;
    }
  } catch (e) {
    input.error = e;
    throw e;
  }
}

/**
 * Streams replies as they arrive. The first message is awaited before answering, so an error
 * before any message gets a proper HTTP status; later errors become a final error record.
 */
async function streamResponse(
  req: Request,
  messages: AsyncIterable<Uint8Array>,
  method: MethodInfo,
  deps: RpcHandlerDeps,
  errOpts: ErrorBodyOptions,
  input: { error?: unknown } = {},
): Promise<Response> {
  const framer = createStreamFramer(streamFormatFor(req.headers.get("accept")));
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  let index = 0;
  let finished = false;
  const frame = (m: Uint8Array, head = "") => deps.codec.decodeToBytes(method.output, m, head + framer.prefix(index++), framer.suffix);
  const body = new ReadableStream<Uint8Array>(
    {
      start(ctl) {
        const head = framer.start();
        if (first.done) {
          finished = true;
          const tail = head + framer.end();
          if (tail) ctl.enqueue(textEncoder.encode(tail));
          ctl.close();
          return;
        }
        ctl.enqueue(frame(first.value, head));
      },
      async pull(ctl) {
        if (finished) return;
        try {
          const r = await it.next();
          if (r.done) {
            finished = true;
            const tail = framer.end();
            if (tail) ctl.enqueue(textEncoder.encode(tail));
            ctl.close();
            return;
          }
          ctl.enqueue(frame(r.value));
        } catch (e) {
          finished = true;
          const { body: errBody } = errorBody(input.error ?? e, errOpts);
          ctl.enqueue(textEncoder.encode(framer.error(JSON.stringify(errBody), index) + framer.end()));
          ctl.close();
        }
      },
      cancel() {
        // The client went away (or stopped reading): stop the upstream stream (or, on a route with
        // onClientDisconnect: continue, let the invoker drain it in the background).
        finished = true;
        void it.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  const headers = new Headers({ "content-type": framer.contentType, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
  return new Response(compressedStream(req, body, headers, deps.compression ?? defaultCompression), { status: 200, headers });
}
