// A nearly free gRPC backend for the streaming benchmarks (node:http2, precomputed replies), so
// the gateway, not the backend, is what gets measured:
//   /market.v1.MarketService/GetKLines     the 1,000-candle reply (73 KB binary, ~180 KB JSON)
//   /market.v1.MarketService/StreamQuotes  `count` quotes (request field 2), cycling through 1,000
//   /demo.v1.EchoService/EchoStream        `n` messages with a blob of `size` bytes
// Streams respect HTTP/2 back-pressure (write() false -> wait for 'drain').
// Usage: bun bench/streaming/raw-backend.ts <port>
import { fromBinary } from "@bufbuild/protobuf";
import http2 from "node:http2";
import { echoBlob, envelope, klinesReply, quotes, registry } from "./fixtures.ts";

const port = Number(process.argv[2] ?? 50151);
const klines = envelope(await klinesReply());
const quoteFrames = quotes().map(envelope);
const quotesReq = registry.getMessage("market.v1.StreamQuotesRequest")!;
const echoReq = registry.getMessage("demo.v1.EchoRequest")!;
const blobs = new Map<number, Uint8Array>();

function body(stream: http2.ServerHttp2Stream): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    stream.on("data", (d: Buffer) => parts.push(d));
    stream.on("end", () => resolve(Buffer.concat(parts).subarray(5)));
  });
}

async function writeAll(stream: http2.ServerHttp2Stream, count: number, frame: (i: number) => Uint8Array): Promise<void> {
  for (let i = 0; i < count && !stream.destroyed; i++) {
    if (!stream.write(frame(i))) await new Promise((r) => stream.once("drain", r));
  }
}

const server = http2.createServer({ settings: { initialWindowSize: 4 * 1024 * 1024, maxConcurrentStreams: 1000 } });
server.on("stream", async (stream, headers) => {
  stream.on("error", () => {});
  const path = headers[":path"];
  const req = await body(stream);
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  if (path === "/market.v1.MarketService/GetKLines") {
    stream.end(klines);
  } else if (path === "/market.v1.MarketService/StreamQuotes") {
    const count = (fromBinary(quotesReq, req) as unknown as { count: number }).count || 10;
    await writeAll(stream, count, (i) => quoteFrames[i % quoteFrames.length]!);
    if (!stream.destroyed) stream.end();
  } else if (path === "/demo.v1.EchoService/EchoStream") {
    const r = fromBinary(echoReq, req) as unknown as { n: bigint; size: number };
    let frame = blobs.get(r.size);
    if (!frame) blobs.set(r.size, (frame = envelope(echoBlob(r.size))));
    await writeAll(stream, Number(r.n), () => frame!);
    if (!stream.destroyed) stream.end();
  } else {
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
  }
});
server.listen(port, "127.0.0.1", () => console.log(`raw backend on 127.0.0.1:${port}`));
