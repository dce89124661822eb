// Accept-Encoding negotiation, and compressed streams that flush every message (with the runtime's
// flushing compressors): a client decoding as bytes arrive sees each message before the next one is written.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { detectRuntime } from "../runtime/index.ts";
import { compressedBody, compressedStream, defaultCompression, negotiateEncoding, type ContentEncoding } from "./compression.ts";

describe("negotiateEncoding", () => {
  const both: ContentEncoding[] = ["br", "gzip"];
  const cases: [string | null, ContentEncoding | undefined][] = [
    [null, undefined],
    ["", undefined],
    ["gzip", "gzip"],
    ["gzip, br", "br"],
    ["br;q=0.5, gzip", "gzip"],
    ["gzip;q=0", undefined],
    ["*", "br"],
    ["*;q=0.1, gzip;q=0.2", "gzip"],
    ["br;q=0, *", "gzip"],
    ["identity", undefined],
    ["deflate, compress", undefined],
    ["GZIP ; Q=1", "gzip"],
    ["x-gzip", "gzip"],
  ];
  for (const [header, want] of cases) {
    test(`${JSON.stringify(header)} -> ${want ?? "identity"}`, () => {
      expect(negotiateEncoding(header, both)).toBe(want);
    });
  }
  test("only what is offered", () => {
    expect(negotiateEncoding("br", ["gzip"])).toBeUndefined();
    expect(negotiateEncoding("br, gzip;q=0.1", ["gzip"])).toBe("gzip");
  });
});

function request(acceptEncoding?: string): Request {
  return new Request("http://x/", acceptEncoding ? { headers: { "accept-encoding": acceptEncoding } } : {});
}

describe("compressedStream", () => {
  for (const encoding of ["gzip", "br"] as const) {
    test(`${encoding}: every message can be decoded as soon as it is written`, async () => {
      const messages = ['{"seq":"1","bid":64000.5}\n', '{"seq":"2","bid":64000.25}\n', '{"seq":"3","bid":64001}\n'];
      let push!: (s: string | null) => void;
      const source = new ReadableStream<Uint8Array>({
        start(ctl) {
          push = (s) => (s === null ? ctl.close() : ctl.enqueue(new TextEncoder().encode(s)));
        },
      });
      const headers = new Headers();
      const body = compressedStream(request(encoding), source, headers, { ...defaultCompression, stream: (await detectRuntime()).streamCompressors });
      expect(headers.get("content-encoding")).toBe(encoding);
      expect(headers.get("vary")).toBe("Accept-Encoding");
      const inflate = encoding === "br" ? zlib.createBrotliDecompress() : zlib.createGunzip();
      let text = "";
      inflate.on("data", (d: Uint8Array) => (text += new TextDecoder().decode(d)));
      const reader = body.getReader();
      const pump = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          inflate.write(value);
        }
      })();
      for (let i = 0; i < messages.length; i++) {
        push(messages[i]!);
        // The next message has not been written; this one must already be readable.
        for (let t = 0; t < 100 && text !== messages.slice(0, i + 1).join(""); t++) await new Promise((r) => setTimeout(r, 5));
        expect(text).toBe(messages.slice(0, i + 1).join(""));
      }
      push(null);
      await pump;
    });
  }

  test("without a flushing compressor streams go out as they are (Vary still set)", () => {
    const headers = new Headers();
    const source = new ReadableStream<Uint8Array>();
    expect(compressedStream(request("gzip"), source, headers, defaultCompression)).toBe(source);
    expect(headers.get("content-encoding")).toBeNull();
    expect(headers.get("vary")).toBe("Accept-Encoding");
  });

  test("disabled: no Vary, no encoding", () => {
    const headers = new Headers();
    const bytes = new Uint8Array(5000);
    expect(compressedBody(request("gzip"), bytes, headers, { enabled: false, thresholdBytes: 0 })).toBe(bytes);
    expect(headers.get("vary")).toBeNull();
  });

  test("Vary is appended to an existing one", () => {
    const headers = new Headers({ vary: "Origin" });
    compressedBody(request(), new Uint8Array(10), headers, defaultCompression);
    expect(headers.get("vary")).toBe("Origin, Accept-Encoding");
  });
});
