// Reads one long stream as fast as it can and reports messages/s and MB/s.
//   http <url> [json]                an NDJSON reply over HTTP/1.1 (raw socket; messages = lines);
//                                    with a JSON body it is a POST
//   grpc <host:port> <path> <hex>    a gRPC server stream read directly (messages = envelopes),
//                                    the request message given as hex
// Prints one JSON line: {"messages", "bytes", "seconds", "msgPerSec", "mbPerSec"}.
// Usage: bun bench/streaming/stream-client.ts http 'http://127.0.0.1:8080/v1/symbols/BTCUSDT/quotes?count=200000'
import http2 from "node:http2";
import net from "node:net";
import { ChunkedDecoder } from "../../test/e2e/streaming-kit.ts";

function report(messages: number, bytes: number, t0: number): void {
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ messages, bytes, seconds: +seconds.toFixed(3), msgPerSec: Math.round(messages / seconds), mbPerSec: +(bytes / seconds / 1e6).toFixed(1) }));
}

function viaHttp(url: URL, json: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(url.port), url.hostname);
    let head = "";
    let decoder: ChunkedDecoder | undefined;
    let messages = 0;
    let bytes = 0;
    const t0 = performance.now();
    const onBody = (b: Uint8Array) => {
      bytes += b.length;
      for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) messages++;
    };
    sock.on("data", (d: Buffer) => {
      let rest: Uint8Array = d;
      if (!decoder) {
        head += d.toString("latin1");
        const at = head.indexOf("\r\n\r\n");
        if (at < 0) return;
        if (!/^HTTP\/1\.1 200/.test(head)) return reject(new Error(head.split("\r\n")[0]));
        decoder = new ChunkedDecoder();
        rest = d.subarray(at + 4 - (head.length - d.length)); // latin1: one char per byte
      }
      decoder.push(rest, onBody);
      if (decoder.done) {
        report(messages, bytes, t0);
        sock.destroy();
        resolve();
      }
    });
    sock.on("error", reject);
    if (json === undefined) sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    else sock.write(`POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  });
}

function viaGrpc(authority: string, path: string, requestHex: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${authority}`, { settings: { initialWindowSize: 4 * 1024 * 1024 } });
    const req = Buffer.from(requestHex, "hex");
    const env = Buffer.alloc(5 + req.length);
    env.writeUInt32BE(req.length, 1);
    req.copy(env, 5);
    const t0 = performance.now();
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    let messages = 0;
    let bytes = 0;
    let need = 5; // bytes until the next envelope boundary
    let inHeader = true;
    let header: number[] = [];
    stream.on("data", (d: Buffer) => {
      bytes += d.length;
      let i = 0;
      while (i < d.length) {
        const n = Math.min(need, d.length - i);
        if (inHeader) for (let k = 0; k < n; k++) header.push(d[i + k]!);
        i += n;
        need -= n;
        if (need === 0) {
          if (inHeader) {
            need = (header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!;
            header = [];
            inHeader = need === 0;
            if (need === 0) {
              messages++;
              need = 5;
            }
          } else {
            messages++;
            inHeader = true;
            need = 5;
          }
        }
      }
    });
    stream.on("end", () => {
      report(messages, bytes, t0);
      session.close();
      resolve();
    });
    stream.on("error", reject);
    stream.end(env);
  });
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === "http") await viaHttp(new URL(a!), b);
else if (mode === "grpc") await viaGrpc(a!, b!, c ?? "");
else throw new Error("usage: stream-client.ts http <url> | grpc <host:port> <path> <request hex>");
