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

/** NDJSON request body -> one parsed value per non-empty line, as it arrives. */
export async function* ndjsonLines(req: Request, maxLineBytes: number, maxTotalBytes: number): AsyncGenerator<unknown> {
  if (!req.body) return;
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let total = 0;
  let line = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxTotalBytes) throw tooLarge(maxTotalBytes);
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const text = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        line++;
        if (text) yield parseLine(text, line);
      }
      if (buf.length > maxLineBytes) throw tooLarge(maxLineBytes);
    }
    buf += decoder.decode();
    const rest = buf.trim();
    if (rest) yield parseLine(rest, line + 1);
  } finally {
    reader.releaseLock();
  }
}

function parseLine(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badJson, message: `NDJSON line ${line} is not valid JSON: ${(e as Error).message}` });
  }
}
