// Streamed replies (NDJSON, SSE, JSON array) compressed for clients that accept it, flushed message by
// message: a raw HTTP/1.1 client decompresses the body incrementally and decodes each message while
// the backend holds the next one back (it sends message i+1 only once the test saw message i).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { GatewayError, GrpcCode } from "../../src/core/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { DESCRIPTORS, quietLogger } from "../helpers/stack.ts";
import { rawRequest } from "./streaming-kit.ts";

/** Per stream (by request text): messages produced, and how many the test allows. */
interface Gate {
  produced: number;
  allowed: number;
  wake: (() => void)[];
}
const gates = new Map<string, Gate>();
const gateOf = (text: string): Gate => {
  let g = gates.get(text);
  if (!g) gates.set(text, (g = { produced: 0, allowed: 1, wake: [] }));
  return g;
};
function allow(text: string, n: number): void {
  const g = gateOf(text);
  g.allowed = n;
  for (const w of g.wake.splice(0)) w();
}

let backend: GrpcServer;
let gw: Gateway;
let plainGw: Gateway;

async function gateway(rt: Awaited<ReturnType<typeof detectRuntime>>, compression?: ConfigInput["compression"]): Promise<Gateway> {
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.port}`] }],
    services: [{ match: "*", upstream: "demo" }],
    ...(compression ? { compression } : {}),
  });
  return startGateway({ config, runtime: rt, logger: quietLogger() });
}

beforeAll(async () => {
  const rt = await detectRuntime();
  backend = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        // Message i is produced only once the test allowed it (bounded: after 10 s it goes anyway, and the test has failed).
        // "fail..." streams end with an error instead of their third message.
        "demo.v1.EchoService/EchoStream": async function* (req: { text: string; n: bigint }, ctx: HandlerContext) {
          const g = gateOf(req.text);
          const count = req.n === 0n ? 3 : Number(req.n);
          for (let i = 0; i < count; i++) {
            if (g.allowed <= i) {
              await new Promise<void>((resolve) => {
                const t = setTimeout(resolve, 10_000);
                g.wake.push(() => (clearTimeout(t), resolve()));
                ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
              });
            }
            if (ctx.signal.aborted) return;
            if (req.text.startsWith("fail") && i === 2) throw new GatewayError({ code: GrpcCode.ABORTED, reason: "demo", message: "failed mid-stream" });
            g.produced = i + 1;
            yield { text: `${req.text}#${i}`, n: BigInt(i) };
          }
        },
      },
    },
  });
  gw = await gateway(rt);
  plainGw = await gateway(rt, { streams: false });
});

afterAll(async () => {
  for (const g of gates.values()) for (const w of g.wake.splice(0)) w();
  await gw?.stop();
  await plainGw?.stop();
  backend?.destroy();
});

type Format = "ndjson" | "sse" | "json-array";
const ACCEPT: Record<Format, string> = { ndjson: "application/x-ndjson", sse: "text/event-stream", "json-array": "application/json" };

/** The complete messages in a (partial) decoded body: texts, plus error records as "error:<reason>". */
function messagesIn(format: Format, body: string): string[] {
  const label = (o: { text?: string; error?: { reason: string } }) => (o.error ? `error:${o.error.reason}` : o.text!);
  if (format === "ndjson") return body.split("\n").slice(0, -1).map((l) => label(JSON.parse(l)));
  if (format === "sse") {
    return body
      .split("\n\n")
      .slice(0, -1)
      .map((ev) => {
        const data = JSON.parse(ev.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
        return ev.startsWith("event: error") ? `error:${data.reason}` : label(data);
      });
  }
  if (body === "" || body === "[") return [];
  // "[a,b" is a complete prefix once closed; a finished array is complete already.
  return (JSON.parse(body.endsWith("]") ? body : body + "]") as { text?: string; error?: { reason: string } }[]).map(label);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
}

/** Opens a stream of `n` messages named `text`; the body is decompressed as it arrives. */
function openStream(port: number, text: string, format: Format, acceptEncoding: string | undefined, n = 3) {
  const body = JSON.stringify({ text, n: String(n) });
  const head =
    `POST /demo.v1.EchoService/EchoStream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: ${ACCEPT[format]}\r\n` +
    (acceptEncoding !== undefined ? `Accept-Encoding: ${acceptEncoding}\r\n` : "") +
    `Content-Length: ${body.length}\r\n\r\n`;
  const raw: Uint8Array[] = [];
  const state = { text: "", encoding: undefined as string | undefined, error: undefined as Error | undefined };
  // Body bytes may come in the same read as the head: held until the head says how to decode them.
  let decode: ((b: Uint8Array) => void) | undefined;
  const early: Uint8Array[] = [];
  const req = rawRequest(port, head, body, (b) => {
    raw.push(new Uint8Array(b));
    if (decode) decode(b);
    else early.push(new Uint8Array(b));
  });
  const headers = req.head.then((r) => {
    state.encoding = r.headers["content-encoding"];
    if (state.encoding === "gzip" || state.encoding === "br") {
      const inflate = state.encoding === "br" ? zlib.createBrotliDecompress() : zlib.createGunzip();
      inflate.on("data", (d: Uint8Array) => (state.text += new TextDecoder().decode(d)));
      inflate.on("error", (e: Error) => (state.error = e));
      decode = (b) => inflate.write(b);
    } else {
      decode = (b) => (state.text += new TextDecoder().decode(b));
    }
    for (const b of early.splice(0)) decode(b);
    return r;
  });
  return { headers, end: req.end, sock: req.sock, state, raw: () => Buffer.concat(raw) };
}

/**
 * Walks a stream message by message: each must decode on the client while the backend has not yet
 * produced the next one; then the next is allowed.
 */
async function expectMessageByMessage(s: ReturnType<typeof openStream>, format: Format, text: string, want: string[]): Promise<void> {
  for (let i = 0; i < want.length; i++) {
    await until(() => messagesIn(format, s.state.text).length >= i + 1);
    expect(messagesIn(format, s.state.text)).toEqual(want.slice(0, i + 1));
    if (!want[i]!.startsWith("error:")) expect(gateOf(text).produced).toBe(i + 1); // the next one is held back
    allow(text, i + 2);
  }
}

function decompressWhole(encoding: string, bytes: Buffer): string {
  return (encoding === "br" ? zlib.brotliDecompressSync(bytes) : zlib.gunzipSync(bytes)).toString();
}

describe("compressed streams, flushed per message", () => {
  for (const format of ["ndjson", "sse"] as const) {
    for (const encoding of ["gzip", "br"] as const) {
      test(`${format} with Accept-Encoding: ${encoding}: each message decodes before the backend sends the next`, async () => {
        const text = `${format}-${encoding}`;
        const s = openStream(gw.port, text, format, encoding === "br" ? "gzip;q=0.5, br" : "gzip");
        const h = await s.headers;
        expect(h.status).toBe(200);
        expect(h.headers["content-encoding"]).toBe(encoding);
        expect(h.headers["vary"]).toContain("Accept-Encoding");
        expect(h.headers["content-type"]).toContain(format === "sse" ? "text/event-stream" : "application/x-ndjson");
        expect(h.headers["content-length"]).toBeUndefined();
        await expectMessageByMessage(s, format, text, [`${text}#0`, `${text}#1`, `${text}#2`]);
        await s.end;
        // The finished body is one complete compressed stream (trailer included).
        expect(decompressWhole(encoding, s.raw())).toBe(s.state.text);
      }, 20_000);
    }
  }

  test("JSON array with Accept-Encoding: gzip", async () => {
    const text = "array-gzip";
    const s = openStream(gw.port, text, "json-array", "gzip");
    expect((await s.headers).headers["content-encoding"]).toBe("gzip");
    await expectMessageByMessage(s, "json-array", text, [`${text}#0`, `${text}#1`, `${text}#2`]);
    await s.end;
    expect(JSON.parse(decompressWhole("gzip", s.raw())).map((m: { text: string }) => m.text)).toEqual([`${text}#0`, `${text}#1`, `${text}#2`]);
  }, 20_000);

  for (const encoding of ["gzip", "br"] as const) {
    test(`${encoding}: an error mid-stream arrives as a compressed, decodable error record, and the stream ends cleanly`, async () => {
      const text = `fail-${encoding}`;
      const s = openStream(gw.port, text, "ndjson", encoding, 4);
      expect((await s.headers).headers["content-encoding"]).toBe(encoding);
      await expectMessageByMessage(s, "ndjson", text, [`${text}#0`, `${text}#1`, "error:upstream_status"]);
      await s.end;
      const lines = decompressWhole(encoding, s.raw()).trim().split("\n");
      expect(lines).toHaveLength(3);
      const record = JSON.parse(lines[2]!) as { error: { code: string; message: string } };
      expect(record.error.code).toBe("ABORTED");
      expect(record.error.message).toContain("failed mid-stream");
    }, 20_000);
  }
});

describe("identity", () => {
  const cases: [string, string | undefined][] = [
    ["no Accept-Encoding", undefined],
    ["gzip refused (q=0)", "gzip;q=0, identity"],
    ["only codings we don't offer", "deflate, zstd"],
  ];
  for (const [name, acceptEncoding] of cases) {
    test(`${name}: the stream goes out uncompressed, Vary still set`, async () => {
      const text = `plain-${name.replace(/\W+/g, "-")}`;
      const s = openStream(gw.port, text, "ndjson", acceptEncoding);
      const h = await s.headers;
      expect(h.headers["content-encoding"]).toBeUndefined();
      expect(h.headers["vary"]).toContain("Accept-Encoding");
      await expectMessageByMessage(s, "ndjson", text, [`${text}#0`, `${text}#1`, `${text}#2`]);
      await s.end;
      expect(s.raw().toString()).toBe(s.state.text);
    }, 20_000);
  }

  test("compression.streams: false: streams are not compressed even when accepted", async () => {
    const text = "streams-off";
    const s = openStream(plainGw.port, text, "ndjson", "gzip, br");
    expect((await s.headers).headers["content-encoding"]).toBeUndefined();
    await expectMessageByMessage(s, "ndjson", text, [`${text}#0`, `${text}#1`, `${text}#2`]);
    await s.end;
  }, 20_000);
});

test("a client that hangs up mid-stream: the compressed stream's upstream call is cancelled", async () => {
  const text = "hangup-gzip";
  const s = openStream(gw.port, text, "ndjson", "gzip", 50);
  await until(() => messagesIn("ndjson", s.state.text).length >= 1);
  expect(messagesIn("ndjson", s.state.text)).toEqual([`${text}#0`]);
  const before = backend.stats.cancelled;
  s.sock.destroy();
  // The backend's next message waits on the gate (never opened): only a cancellation ends the call.
  await until(() => backend.stats.cancelled > before, 10_000);
  expect(backend.stats.cancelled).toBeGreaterThan(before);
  expect(gateOf(text).produced).toBe(1);
}, 20_000);
