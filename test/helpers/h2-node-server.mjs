// A node:http2 server (nghttp2) for the HTTP/2 client tests, run by `node` in a child process so the
// peer is Node's implementation, not the test runner's. Prints {"port":N} when listening.
// Paths: /echo, /slow, /hang, /reset, /stream-out, /stream-in, /stats, /close-session, /goaway-last.
import http2 from "node:http2";

const stats = { concurrent: 0, maxConcurrent: 0, produced: 0 };
const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
server.on("session", (s) => s.on("error", () => {}));

function pattern(n, seed) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function ok(stream, body, trailers = {}) {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", ...trailers }));
  stream.end(body);
}

server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  stats.concurrent++;
  stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
  stream.on("close", () => stats.concurrent--);
  const path = headers[":path"];
  switch (path) {
    case "/echo": {
      const chunks = [];
      stream.on("data", (c) => chunks.push(c));
      stream.on("end", () => ok(stream, Buffer.concat(chunks), { "x-bytes": String(chunks.reduce((n, c) => n + c.length, 0)) }));
      return;
    }
    case "/slow":
      stream.resume();
      setTimeout(() => !stream.destroyed && ok(stream, Buffer.from("done")), 200);
      return;
    case "/hang":
      stream.resume();
      stream.respond({ ":status": 200 });
      return;
    case "/reset":
      stream.resume();
      stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      return;
    case "/stream-out": {
      stream.resume();
      const total = Number(headers["x-total"]);
      const chunk = 64 * 1024;
      stream.respond({ ":status": 200 }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      (async () => {
        for (let i = 0; i < total / chunk; i++) {
          if (stream.destroyed) return;
          stats.produced += chunk;
          if (!stream.write(pattern(chunk, i))) await new Promise((r) => stream.once("drain", r));
        }
        stream.end();
      })();
      return;
    }
    case "/stream-in": {
      let n = 0;
      stream.on("data", (c) => (n += c.length));
      stream.on("end", () => ok(stream, Buffer.alloc(0), { "x-bytes": String(n) }));
      return;
    }
    case "/stats":
      stream.resume();
      ok(stream, Buffer.from(JSON.stringify(stats)));
      if (headers["x-reset"]) Object.assign(stats, { maxConcurrent: stats.concurrent, produced: 0 });
      return;
    case "/close-session":
      stream.resume();
      ok(stream, Buffer.alloc(0));
      stream.session.close();
      return;
    case "/goaway-last":
      stream.resume();
      stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR, Number(headers["x-last"]));
      return;
    default:
      stream.respond({ ":status": 404 }, { endStream: true });
  }
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
