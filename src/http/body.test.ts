// A request body whose stream fails (its connection went away; on Deno 2.9 also a graceful shutdown
// beginning) is CANCELLED client_cancelled (HTTP 499), not an internal error (HTTP 500); the limit
// and read-timeout errors keep their own reasons.
import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, httpStatusForError, Reason } from "../core/index.ts";
import { ndjsonLines, readBodyLimited } from "./body.ts";

/** A POST whose body yields `first`, then fails like a connection torn down mid-body. */
function failingRequest(first: string, headers: Record<string, string> = {}): Request {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (!sent) {
        sent = true;
        ctl.enqueue(new TextEncoder().encode(first));
      } else ctl.error(new Error("connection reset"));
    },
  });
  return new Request("http://gw.test/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    expect(GatewayError.is(e)).toBe(true);
    return e as GatewayError;
  }
  throw new Error("expected a failure");
}

describe("a body that stops arriving because its connection failed", () => {
  test("chunked (no Content-Length): CANCELLED client_cancelled, HTTP 499, naming the cause", async () => {
    const e = await failure(readBodyLimited(failingRequest('{"text":'), 1024, 5_000));
    expect(e.code).toBe(GrpcCode.CANCELLED);
    expect(e.reason).toBe(Reason.clientCancelled);
    expect(httpStatusForError(e)).toBe(499);
    expect(e.message).toContain("connection reset");
  });

  test("with a Content-Length, with and without a read timeout: the same", async () => {
    for (const timeout of [5_000, Infinity]) {
      const e = await failure(readBodyLimited(failingRequest('{"text":', { "content-length": "100" }), 1024, timeout));
      expect(e.reason).toBe(Reason.clientCancelled);
      expect(httpStatusForError(e)).toBe(499);
    }
  });

  test("an NDJSON client stream: the same, after the lines that did arrive", async () => {
    const got: unknown[] = [];
    const e = await failure(
      (async () => {
        for await (const v of ndjsonLines(failingRequest('{"a":1}\n{"a":'), 1024, 1 << 20, 5_000)) got.push(v);
      })(),
    );
    expect(got).toEqual([{ a: 1 }]);
    expect(e.reason).toBe(Reason.clientCancelled);
  });

  test("the limit still answers 413 body_too_large", async () => {
    const e = await failure(readBodyLimited(failingRequest("x".repeat(64)), 16, 5_000));
    expect(e.reason).toBe(Reason.bodyTooLarge);
    expect(httpStatusForError(e)).toBe(413);
  });

  test("a stalled body still answers 408 body_read_timeout", async () => {
    const stalled = new Request("http://gw.test/x", { method: "POST", body: new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) }), duplex: "half" } as RequestInit);
    const e = await failure(readBodyLimited(stalled, 1024, 50));
    expect(e.reason).toBe(Reason.bodyReadTimeout);
    expect(httpStatusForError(e)).toBe(408);
  });
});
