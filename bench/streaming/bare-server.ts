// The same-run baseline "the bare runtime writing the same bytes": Bun.serve answering with exactly
// what the gateway answers, precomputed, through the same response paths (a Uint8Array body; the
// same gzip helper; a pull-based ReadableStream with one message per chunk for streams).
//   GET /klines                 the GetKLines JSON (gzip when asked, like the gateway)
//   GET /quotes?count=N         N quotes as NDJSON
//   GET /blobs?n=N&size=S       N EchoResponse lines with an S-byte blob
// Usage: bun bench/streaming/bare-server.ts <port>
import { compressedBody, defaultCompression } from "../../src/http/compression.ts";
import { echoBlob, echoResponseDesc, jsonOf, klinesDesc, klinesReply, quoteDesc, quotes } from "./fixtures.ts";

const port = Number(process.argv[2] ?? 18090);
const enc = new TextEncoder();
const klinesJson = enc.encode(jsonOf(klinesDesc, await klinesReply()));
const quoteLines = quotes().map((q) => enc.encode(jsonOf(quoteDesc, q) + "\n"));
const blobLines = new Map<number, Uint8Array>();

function ndjson(count: number, line: (i: number) => Uint8Array): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        if (i >= count) return ctl.close();
        ctl.enqueue(line(i++).slice()); // a fresh chunk per message, as the gateway makes
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}

Bun.serve({
  port,
  hostname: "127.0.0.1",
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/klines") {
      const headers = new Headers({ "content-type": "application/json" });
      return new Response(compressedBody(req, klinesJson, headers, defaultCompression), { headers });
    }
    if (url.pathname === "/quotes") return ndjson(Number(url.searchParams.get("count") ?? 10), (i) => quoteLines[i % quoteLines.length]!);
    if (url.pathname === "/blobs") {
      const size = Number(url.searchParams.get("size") ?? 1024);
      let line = blobLines.get(size);
      if (!line) blobLines.set(size, (line = enc.encode(jsonOf(echoResponseDesc, echoBlob(size)) + "\n")));
      return ndjson(Number(url.searchParams.get("n") ?? 10), () => line!);
    }
    return new Response("not found", { status: 404 });
  },
});
console.log(`bare server on 127.0.0.1:${port}`);
