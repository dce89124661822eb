// Compressors for streamed HTTP replies (NDJSON, SSE): every chunk written comes out complete,
// decodable by the client before the next one is written. The Web CompressionStream can't be told
// to flush (Bun and Node hold data in the compressor's window until more arrives), so this uses
// node:zlib, which Bun, Deno and Node all provide: gzip with Z_SYNC_FLUSH after each chunk (zlib
// manual, "deflate": "all pending output is flushed ... aligned on a byte boundary"), brotli with
// BROTLI_OPERATION_FLUSH (RFC 7932 leaves the meta-block boundary to the encoder; FLUSH ends one).
import zlib from "node:zlib";
import type { FlushingCompressors, StreamContentEncoding } from "../types.ts";

// Many long-lived streams of small messages: brotli's defaults (quality 11, 4 MiB window) cost far
// too much CPU and memory per stream; quality 5 with a 256 KiB window is the usual dynamic-content
// setting. gzip keeps zlib's defaults (level 6, about 256 KiB of state per stream).
const BROTLI_QUALITY = 5;
const BROTLI_WINDOW_BITS = 18;

/** node:zlib stream, the slice we use. */
interface ZStream {
  write(chunk: Uint8Array): boolean;
  flush(kind: number, cb: () => void): void;
  end(): void;
  destroy(): void;
  on(event: "data", fn: (d: Uint8Array) => void): unknown;
  on(event: "error", fn: (e: Error) => void): unknown;
  once(event: "end", fn: () => void): unknown;
}

function brotliAvailable(): boolean {
  return typeof zlib.createBrotliCompress === "function" && typeof zlib.constants.BROTLI_OPERATION_FLUSH === "number";
}

function open(encoding: StreamContentEncoding): { z: ZStream; flushKind: number } {
  if (encoding === "br") {
    const c = zlib.constants;
    const params = { [c.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [c.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW_BITS };
    return { z: zlib.createBrotliCompress({ params }) as unknown as ZStream, flushKind: c.BROTLI_OPERATION_FLUSH };
  }
  return { z: zlib.createGzip() as unknown as ZStream, flushKind: zlib.constants.Z_SYNC_FLUSH };
}

/**
 * One compressor as a readable/writable pair (what pipeThrough takes). A write resolves once its
 * chunk is flushed out and the reader wants more, so a slow client holds back the source (HTTP
 * back-pressure still reaches upstream flow control). Cancelling the readable frees the zlib state
 * and errors the writable, which cancels the source of a pipe.
 */
export function createFlushingCompressor(encoding: StreamContentEncoding): TransformStream<Uint8Array, Uint8Array> {
  const { z, flushKind } = open(encoding);
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let input!: WritableStreamDefaultController;
  /** Resolves the write in progress; `waiting` once its chunk is out and only the reader is awaited. */
  let writing: (() => void) | undefined;
  let waiting: (() => void) | undefined;
  /** Resolves a close() waiting for the compressor's end. */
  let closing: (() => void) | undefined;
  let done = false;
  const stop = (reason: unknown, errorReadable: boolean) => {
    if (done) return;
    done = true;
    z.destroy();
    if (errorReadable) out.error(reason);
    input.error(reason);
    writing?.();
    closing?.();
  };
  // Copied: a plain Uint8Array (not a Buffer) leaves the runtime folder, and it can't share memory
  // with an output buffer zlib might reuse while the chunk still waits in the queue. Compressed
  // chunks are small next to the compression work.
  z.on("data", (d) => {
    if (!done) out.enqueue(new Uint8Array(d));
  });
  z.on("error", (e) => stop(e, true));

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        out = c;
      },
      pull() {
        waiting?.();
      },
      cancel(reason) {
        stop(reason, false);
      },
    },
    { highWaterMark: 1 },
  );
  const writable = new WritableStream<Uint8Array>(
    {
      start(c) {
        input = c;
      },
      write(chunk) {
        if (done) return;
        return new Promise<void>((resolve) => {
          const finish = () => {
            writing = waiting = undefined;
            resolve();
          };
          writing = finish;
          z.write(chunk);
          z.flush(flushKind, () => {
            // This chunk is out (its data events came first); go on once the reader wants more.
            if (done || (out.desiredSize ?? 0) > 0) finish();
            else waiting = finish;
          });
        });
      },
      close() {
        return new Promise<void>((resolve) => {
          if (done) return resolve();
          closing = resolve;
          z.once("end", () => {
            if (!done) {
              done = true;
              out.close();
            }
            resolve();
          });
          z.end();
        });
      },
      abort(reason) {
        stop(reason, true);
      },
    },
    { highWaterMark: 1 },
  );
  return { readable, writable };
}

let encodings: readonly StreamContentEncoding[] | undefined;

/** Flushing compressors of this runtime: brotli where node:zlib has it, gzip always. */
export const flushingCompressors: FlushingCompressors = {
  get encodings() {
    return (encodings ??= brotliAvailable() ? ["br", "gzip"] : ["gzip"]);
  },
  create: createFlushingCompressor,
};
