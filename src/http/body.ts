// Request bodies under a byte limit: refused by Content-Length before reading, and cut off while
// reading when a chunked (or lying) body passes the limit. Never buffers more than the limit.
// And in bounded time: a client that sends headers and then trickles (or stalls) the body is
// answered 408 once the body read timeout passes, whatever the server's idle timeout.
import { concatBytes, GatewayError, GrpcCode, Reason, textDecoder } from "../core/index.ts";

export function tooLarge(limit: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.OUT_OF_RANGE,
    reason: Reason.bodyTooLarge,
    message: `request body exceeds the limit of ${limit} bytes`,
  });
}

export function bodyReadTimeout(ms: number, what = "request body"): GatewayError {
  return new GatewayError({
    code: GrpcCode.DEADLINE_EXCEEDED,
    reason: Reason.bodyReadTimeout,
    message: `${what} not received within ${ms} ms`,
  });
}

/**
 * The body stopped arriving because its connection went away: the client left, or (Deno 2.9, denoland/deno#36809)
 * a graceful server shutdown cut the bodies still being received. CANCELLED (HTTP 499) as on Bun, whose reads fail
 * with an AbortError; never a 500, as nothing in the gateway failed.
 */
export function bodyReadFailed(e: unknown): GatewayError {
  if (GatewayError.is(e)) return e;
  return new GatewayError({
    code: GrpcCode.CANCELLED,
    reason: Reason.clientCancelled,
    message: `request body could not be read: ${e instanceof Error ? e.message : String(e)}`,
    cause: e,
  });
}

/**
 * How long a unary body may take: the body read timeout or the call's deadline (requested, capped,
 * else the route's), whichever is sooner. An already expired request deadline is left to the invoker,
 * as is a body that arrived in time but left nothing of the deadline (it counts from the request's arrival).
 */
export function bodyDeadlineMs(readTimeoutMs: number | undefined, routeTimeoutMs: number, maxTimeoutMs: number, requestedMs: number | undefined): number {
  const call = requestedMs !== undefined && requestedMs > 0 ? Math.min(requestedMs, maxTimeoutMs) : Math.min(routeTimeoutMs, maxTimeoutMs);
  return Math.min(readTimeoutMs ?? Infinity, call);
}

/** Runs onExpire once `ms` pass without touch() (while started). One timer, re-armed lazily. */
function expiry(ms: number, onExpire: () => void): { start(): void; touch(): void; stop(): void } {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const left = last + ms - Date.now();
    if (left > 0) timer = setTimeout(check, left);
    else {
      timer = undefined;
      onExpire();
    }
  };
  return {
    start() {
      last = Date.now();
      if (Number.isFinite(ms) && timer === undefined) timer = setTimeout(check, ms);
    },
    touch() {
      last = Date.now();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The whole body, at most `limit` bytes, within `timeoutMs` (default: no bound). */
export async function readBodyLimited(req: Request, limit: number, timeoutMs = Infinity): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  // With a Content-Length the server reads exactly that many bytes (RFC 9112 6.3), so the body is already
  // bounded: arrayBuffer() is far cheaper than a reader loop (bench/README.md). Checked before touching
  // req.body, which makes @hono/node-server build a web stream. Chunked bodies use the counting reader.
  if (declared !== null) {
    const read = req.arrayBuffer();
    let buf: ArrayBuffer;
    if (!Number.isFinite(timeoutMs)) buf = await read.catch((e: unknown) => Promise.reject(bodyReadFailed(e)));
    else {
      // arrayBuffer() can't be cancelled: on timeout it is left to fail when the connection closes.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(bodyReadTimeout(timeoutMs)), timeoutMs);
      });
      read.catch(() => {});
      try {
        buf = await Promise.race([read, late]);
      } catch (e) {
        throw bodyReadFailed(e);
      } finally {
        clearTimeout(timer);
      }
    }
    const bytes = new Uint8Array(buf);
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return bytes;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  let timedOut = false;
  const clock = expiry(timeoutMs, () => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  });
  clock.start();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((e: unknown) => Promise.reject(timedOut ? bodyReadTimeout(timeoutMs) : bodyReadFailed(e)));
      if (timedOut) throw bodyReadTimeout(timeoutMs);
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    clock.stop();
  }
  return concatBytes(chunks, total);
}

/** Parses a JSON body; an empty body is {}. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return {};
  const text = textDecoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GatewayError({
      code: GrpcCode.INVALID_ARGUMENT,
      reason: Reason.badJson,
      message: `request body is not valid JSON: ${(e as Error).message}`,
    });
  }
}

/**
 * NDJSON request body -> one parsed value per non-empty line, as it arrives (http://ndjson.org).
 * Lines are split on bytes, so a line is refused as soon as it passes maxLineBytes (before its
 * newline arrives), and the body as a whole past maxTotalBytes. Each line (an empty one too: a
 * keep-alive) must arrive within lineTimeoutMs of the previous one, not counting the time the
 * consumer takes with a value.
 */
export async function* ndjsonLines(req: Request, maxLineBytes: number, maxTotalBytes: number, lineTimeoutMs = Infinity): AsyncGenerator<unknown> {
  if (!req.body) return;
  const reader = req.body.getReader();
  let timedOut = false;
  const clock = expiry(lineTimeoutMs, () => {
    timedOut = true;
    void reader.cancel().catch(() => {});
  });
  const pending: Uint8Array[] = []; // the current line's bytes so far
  let pendingBytes = 0;
  let total = 0;
  let line = 0;
  const takeLine = (last: Uint8Array): unknown => {
    line++;
    const bytes = pending.length === 0 ? last : concatBytes([...pending, last], pendingBytes + last.byteLength);
    pending.length = 0;
    pendingBytes = 0;
    const text = textDecoder.decode(bytes).trim();
    return text ? parseLine(text, line) : undefined;
  };
  const lineTimeout = () => bodyReadTimeout(lineTimeoutMs, `NDJSON line ${line + 1} of the request body`);
  clock.start();
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((e: unknown) => Promise.reject(timedOut ? lineTimeout() : bodyReadFailed(e)));
      if (timedOut) throw lineTimeout();
      if (done) break;
      total += value.byteLength;
      if (total > maxTotalBytes) throw tooLarge(maxTotalBytes);
      let start = 0;
      for (let nl = value.indexOf(0x0a); nl >= 0; nl = value.indexOf(0x0a, start)) {
        if (pendingBytes + nl - start > maxLineBytes) throw tooLarge(maxLineBytes);
        const v = takeLine(value.subarray(start, nl));
        start = nl + 1;
        clock.touch();
        if (v !== undefined) {
          clock.stop();
          yield v;
          clock.start();
        }
      }
      if (start < value.byteLength) {
        pendingBytes += value.byteLength - start;
        if (pendingBytes > maxLineBytes) throw tooLarge(maxLineBytes);
        pending.push(value.subarray(start));
      }
    }
    if (pendingBytes > 0) {
      const v = takeLine(new Uint8Array(0));
      if (v !== undefined) yield v;
    }
  } finally {
    clock.stop();
    await reader.cancel().catch(() => {});
  }
}

function parseLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badJson, message: `NDJSON line ${line} is not valid JSON: ${(e as Error).message}` });
  }
}
