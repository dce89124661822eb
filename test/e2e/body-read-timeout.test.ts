// Slow uploads are bounded by the body read timeout (or the call's deadline, if sooner), not by the
// server's idle timeout: a raw TCP client sends the headers and part of the body, then trickles or
// stalls. The answer is 408 with reason body_read_timeout and the upstream is never called; a stalled
// NDJSON client stream is answered the same way and its upstream stream is cancelled.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { DESCRIPTORS, quietLogger } from "../helpers/stack.ts";

let backend: GrpcServer;
let gw: Gateway;
/** Calls that reached the backend, by request text. */
const echoed: string[] = [];
const collect = { started: [] as string[], aborted: [] as string[], completed: [] as string[] };
const sockets: net.Socket[] = [];

beforeAll(async () => {
  const rt = await detectRuntime();
  backend = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string }) => {
          echoed.push(req.text);
          return { text: req.text };
        },
        "demo.v1.EchoService/EchoStream": async function* (req: { text: string }) {
          echoed.push(req.text);
          yield { text: req.text };
        },
        // Names itself by the first line's text; records whether the gateway cancelled it.
        "demo.v1.EchoService/Collect": async (reqs: AsyncIterable<{ text: string }>, ctx: HandlerContext) => {
          let name = "";
          let text = "";
          let n = 0n;
          try {
            for await (const r of reqs) {
              if (n === 0n) {
                name = r.text;
                collect.started.push(name);
              }
              n++;
              text += r.text;
            }
          } catch (e) {
            // The reset reached us before any end of the request stream: the iterator throws CANCELLED.
            if (ctx.signal.aborted) collect.aborted.push(name);
            throw e;
          }
          // Bun's node:http2 client sends END_STREAM before RST_STREAM when it cancels (our own client
          // sends only the RST), so the request stream of a cancelled call can end like a finished one:
          // wait for the abort to show.
          if (name.startsWith("stalled") && !ctx.signal.aborted) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 3000);
              ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
            });
          }
          (ctx.signal.aborted ? collect.aborted : collect.completed).push(name);
          return { text, n };
        },
      },
    },
  });
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.port}`] }],
    services: [{ match: "*", upstream: "demo" }],
    limits: { bodyReadTimeout: "1s" },
    routes: [
      // The route's deadline is sooner than the body read timeout: it bounds the body.
      { method: "demo.v1.EchoService/EchoStream", timeout: "600ms" },
      { method: "demo.v1.EchoService/Collect", bodyReadTimeout: "800ms" },
    ],
  });
  gw = await startGateway({ config, runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await gw?.stop();
  backend?.destroy();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Resolves true once the server closed the connection (false if still open 5 s after the answer). */
  closed: Promise<boolean>;
}

/**
 * Sends `head` and `first` on a raw connection, then `trickle` (if any) one byte at a time every
 * 100 ms until the answer is complete. Resolves with the answer (Content-Length bodies only).
 */
function slowUpload(head: string, first: string, trickle = ""): Promise<Answer> {
  const sock = net.connect(gw.port, "127.0.0.1");
  sockets.push(sock);
  let buf = Buffer.alloc(0);
  let timer: ReturnType<typeof setInterval> | undefined;
  const closed = new Promise<boolean>((res) => {
    sock.once("close", () => res(true));
    sock.once("end", () => res(true));
  });
  const closedOrOpen = () => Promise.race([closed, new Promise<boolean>((res) => setTimeout(() => res(false), 5000))]);
  return new Promise<Answer>((resolve, reject) => {
    const giveUp = setTimeout(() => reject(new Error(`no complete answer in 10 s; got ${JSON.stringify(buf.toString())}`)), 10_000);
    const done = (a: Answer) => {
      clearTimeout(giveUp);
      clearInterval(timer);
      resolve(a);
    };
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const at = buf.indexOf("\r\n\r\n");
      if (at < 0) return;
      const lines = buf.subarray(0, at).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).trim().toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      const len = Number(headers["content-length"] ?? NaN);
      const body = buf.subarray(at + 4);
      if (Number.isFinite(len) && body.length >= len) done({ status: Number(lines[0]!.split(" ")[1]), headers, body: body.subarray(0, len).toString(), closed: closedOrOpen() });
    });
    sock.on("error", () => {}); // the server may close while we still write
    sock.on("close", () => reject(new Error(`closed before a complete answer; got ${JSON.stringify(buf.toString())}`)));
    sock.write(head + first);
    let i = 0;
    if (trickle) {
      timer = setInterval(() => {
        if (i < trickle.length && !sock.destroyed) sock.write(trickle[i++]!);
      }, 100);
    }
  });
}

function expectTimeout(a: Answer, ms: number): void {
  expect(a.status).toBe(408);
  expect(a.headers["content-type"]).toContain("application/json");
  const body = JSON.parse(a.body) as { code: string; reason: string; message: string };
  expect(body.reason).toBe("body_read_timeout");
  expect(body.code).toBe("DEADLINE_EXCEEDED");
  expect(body.message).toContain(`within ${ms} ms`);
  expect(a.headers["connection"]).toBe("close");
}

const post = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n`;

describe("unary body read timeout", () => {
  test("Content-Length body trickled a byte every 100 ms: 408 after limits.bodyReadTimeout, upstream never called", async () => {
    const body = JSON.stringify({ text: "trickled-cl" });
    // 60 bytes announced, 5 sent at once, the rest far slower than the bound allows.
    const a = await slowUpload(post("/demo.v1.EchoService/Echo", `Content-Length: ${body.length + 40}\r\n`), body.slice(0, 5), body.slice(5) + " ".repeat(40));
    expectTimeout(a, 1000);
    expect(echoed).not.toContain("trickled-cl");
    // The trickle goes on, but the server hangs up (the rest of the body can't be parsed as a request).
    expect(await a.closed).toBe(true);
  }, 15_000);

  test("chunked body that stalls: 408, upstream never called", async () => {
    const a = await slowUpload(post("/demo.v1.EchoService/Echo", "Transfer-Encoding: chunked\r\n"), `5\r\n{"tex\r\n`);
    expectTimeout(a, 1000);
    expect(echoed.length).toBe(0);
  }, 15_000);

  test("a requested deadline shorter than the bound bounds the body", async () => {
    const a = await slowUpload(post("/demo.v1.EchoService/Echo", "X-Sluice-Timeout: 300ms\r\nContent-Length: 50\r\n"), `{"text":`);
    expectTimeout(a, 300);
  }, 15_000);

  test("the route's deadline (600ms) is sooner than limits.bodyReadTimeout (1s): it bounds a server-streaming request's body", async () => {
    const a = await slowUpload(post("/demo.v1.EchoService/EchoStream", "Content-Length: 50\r\n"), `{"text":`);
    expectTimeout(a, 600);
    expect(echoed.length).toBe(0);
  }, 15_000);

  test("a body that arrives in time is served", async () => {
    const body = JSON.stringify({ text: "in-time" });
    const a = await slowUpload(post("/demo.v1.EchoService/Echo", `Content-Length: ${body.length}\r\n`), body);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ text: "in-time" });
    expect(echoed).toContain("in-time");
  }, 15_000);
});

describe("NDJSON client stream", () => {
  test("a stall between lines past the route's bodyReadTimeout: 408, the upstream stream is cancelled", async () => {
    const head = `POST /demo.v1.EchoService/Collect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const line = `{"text":"stalled"}\n`;
    const a = await slowUpload(head, `${line.length.toString(16)}\r\n${line}\r\n`);
    expect(a.status).toBe(408);
    const body = JSON.parse(a.body) as { reason: string; message: string };
    expect(body.reason).toBe("body_read_timeout");
    expect(body.message).toContain("NDJSON line 2");
    expect(body.message).toContain("within 800 ms");
    // The first line went upstream; the stream was then cancelled, never completed.
    expect(collect.started).toContain("stalled");
    for (let t = 0; t < 500 && !collect.aborted.includes("stalled"); t++) await new Promise((r) => setTimeout(r, 10));
    expect(collect.aborted).toContain("stalled");
    expect(collect.completed).not.toContain("stalled");
  }, 15_000);

  test("lines that keep coming (each within the bound) are collected", async () => {
    const head = `POST /demo.v1.EchoService/Collect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const sock = net.connect(gw.port, "127.0.0.1");
    sockets.push(sock);
    let got = "";
    const answered = new Promise<void>((resolve) => sock.on("data", (d: Buffer) => ((got += d.toString()), got.includes("}") && resolve())));
    sock.write(head);
    const chunk = (s: string) => sock.write(`${s.length.toString(16)}\r\n${s}\r\n`);
    // Three lines 100 ms apart: the whole upload takes longer than nothing, each line is well within 800 ms.
    for (const t of ["keep", "-", "going"]) {
      chunk(`{"text":"${t}"}\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    sock.write("0\r\n\r\n");
    await Promise.race([answered, new Promise((r) => setTimeout(r, 10_000))]);
    expect(got).toContain("200 OK");
    expect(got).toContain('"text":"keep-going"');
    expect(collect.completed).toContain("keep");
  }, 15_000);
});
