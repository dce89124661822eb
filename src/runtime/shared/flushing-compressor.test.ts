// Flushing compressors: each chunk can be decoded as soon as it is written, the finished stream is a
// complete gzip/brotli stream, a slow reader holds writes back, and cancelling frees the pipe's source.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { createFlushingCompressor, flushingCompressors } from "./flushing-compressor.ts";

const enc = new TextEncoder();

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
}

function decompressor(encoding: "br" | "gzip") {
  const inflate = encoding === "br" ? zlib.createBrotliDecompress() : zlib.createGunzip();
  const state = { text: "" };
  inflate.on("data", (d: Uint8Array) => (state.text += new TextDecoder().decode(d)));
  return { state, write: (b: Uint8Array) => inflate.write(b) };
}

test("gzip always, brotli where node:zlib has it", () => {
  expect(flushingCompressors.encodings).toContain("gzip");
  expect(flushingCompressors.encodings[0]).toBe("br"); // Bun has brotli in node:zlib
});

for (const encoding of ["gzip", "br"] as const) describe(encoding, () => {
  test("every chunk decodes on arrival; the end makes a complete stream", async () => {
    const messages = ['{"seq":"1","bid":64000.5}\n', '{"seq":"2","bid":64000.25}\n', "data: {\"seq\":\"3\"}\n\n"];
    const { readable, writable } = createFlushingCompressor(encoding);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const all: Uint8Array[] = [];
    const d = decompressor(encoding);
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        all.push(value);
        d.write(value);
      }
    })();
    for (let i = 0; i < messages.length; i++) {
      void writer.write(enc.encode(messages[i]!));
      // The next chunk has not been written; this one must already be readable.
      const want = messages.slice(0, i + 1).join("");
      await until(() => d.state.text === want);
      expect(d.state.text).toBe(want);
    }
    await writer.close();
    await pump;
    const whole = Buffer.concat(all);
    const text = (encoding === "br" ? zlib.brotliDecompressSync(whole) : zlib.gunzipSync(whole)).toString();
    expect(text).toBe(messages.join(""));
  });

  test("a reader that does not read holds the next write back", async () => {
    const { readable, writable } = createFlushingCompressor(encoding);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    let firstDone = false;
    void writer.write(enc.encode("one\n")).then(() => (firstDone = true));
    // Nobody reads: the flushed output fills the readable's queue and the write stays pending.
    await new Promise((r) => setTimeout(r, 100));
    expect(firstDone).toBe(false);
    const d = decompressor(encoding);
    while (!firstDone) {
      const r = await Promise.race([reader.read(), new Promise<null>((res) => setTimeout(() => res(null), 5000))]);
      if (r === null || r.done) break;
      d.write(r.value);
    }
    expect(firstDone).toBe(true);
    await until(() => d.state.text === "one\n");
    expect(d.state.text).toBe("one\n");
    await reader.cancel();
  });

  test("cancelling the reader cancels the source piped in", async () => {
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(enc.encode("first\n"));
      },
      cancel(reason) {
        cancelled = reason ?? "cancelled";
      },
    });
    const reader = source.pipeThrough(createFlushingCompressor(encoding)).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel("client gone");
    await until(() => cancelled !== undefined);
    expect(cancelled).toBeDefined();
  });
});
