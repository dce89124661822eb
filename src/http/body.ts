// Request bodies under a byte limit: refused by Content-Length before reading, and cut off while
// reading when a chunked (or lying) body passes the limit. Never buffers more than the limit.
import { concatBytes, GatewayError, GrpcCode, Reason, textDecoder } from "../core/index.ts";

export function tooLarge(limit: number): GatewayError {
  return new GatewayError({
    code: GrpcCode.OUT_OF_RANGE,
    reason: Reason.bodyTooLarge,
    message: `request body exceeds the limit of ${limit} bytes`,
  });
}

export async function readBodyLimited(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  // With a Content-Length the server reads exactly that many bytes (RFC 9112 6.3), so the body is already
  // bounded: arrayBuffer() is far cheaper than a reader loop (bench/README.md). Checked before touching
  // req.body, which makes @hono/node-server build a web stream. Chunked bodies use the counting reader.
  if (declared !== null) {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge(limit);
    return bytes;
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
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
 * newline arrives), and the body as a whole past maxTotalBytes.
 */
export async function* ndjsonLines(req: Request, maxLineBytes: number, maxTotalBytes: number): AsyncGenerator<unknown> {
  if (!req.body) return;
  const reader = req.body.getReader();
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
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxTotalBytes) throw tooLarge(maxTotalBytes);
      let start = 0;
      for (let nl = value.indexOf(0x0a); nl >= 0; nl = value.indexOf(0x0a, start)) {
        if (pendingBytes + nl - start > maxLineBytes) throw tooLarge(maxLineBytes);
        const v = takeLine(value.subarray(start, nl));
        start = nl + 1;
        if (v !== undefined) yield v;
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
