// Large bodies and replies: request body limits (413 before reading, chunked bodies cut off at the
// limit, per-route limits), upstream message size limits (502 naming the limit), large unary replies
// arriving intact, and reply compression.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { isPattern, rawRequest, sleepMs, startCountingStack, type InProcessStack } from "./streaming-kit.ts";

const MiB = 1024 * 1024;
let s: InProcessStack;
beforeAll(async () => {
  s = await startCountingStack((c) => ({
    ...c,
    upstreams: c.upstreams.map((u) => ({ ...u, maxMessageBytes: "20MiB" })),
    routes: [...(c.routes ?? []), { method: "demo.v1.EchoService/Collect", maxBodyBytes: "64KiB" }, { method: "demo.v1.EchoService/EchoStream", maxBodyBytes: "1KiB" }],
  }));
});
afterAll(async () => {
  await s.stop();
});

/** A JSON body of exactly `size` bytes: {"text":"xxx..."}. */
function echoBody(size: number): string {
  return `{"text":"${"x".repeat(size - 11)}"}`;
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${s.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

describe("request body limit (default 4 MiB)", () => {
  test("a body of exactly the limit is accepted; one byte more is 413", async () => {
    const ok = await post("/v1/echo", echoBody(4 * MiB));
    expect(ok.status).toBe(200);
    expect((await ok.json()).text.length).toBe(4 * MiB - 11);
    const over = await post("/v1/echo", echoBody(4 * MiB + 1));
    expect(over.status).toBe(413);
    const err = await over.json();
    expect(err.reason).toBe("body_too_large");
    expect(err.message).toContain(String(4 * MiB));
  });

  test("a Content-Length over the limit is refused before any body byte is sent", async () => {
    let body = "";
    const r = rawRequest(s.port, `POST /v1/echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${4 * MiB + 1}\r\n\r\n`, undefined, (b) => (body += Buffer.from(b).toString()));
    const head = await Promise.race([r.head, sleepMs(3000).then(() => undefined)]);
    await Promise.race([r.end, sleepMs(1000)]);
    r.sock.destroy();
    expect(head?.status).toBe(413);
    expect(JSON.parse(body).reason).toBe("body_too_large");
  });

  test("a chunked body (no length declared) is cut off at the limit, not read to its end", async () => {
    let body = "";
    const r = rawRequest(s.port, "POST /v1/echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n", undefined, (b) => (body += Buffer.from(b).toString()));
    let closed = false;
    r.sock.on("close", () => (closed = true));
    const piece = "x".repeat(64 * 1024);
    r.sock.write(`9\r\n{"text":"\r\n`);
    // 1 MiB past the limit, then nothing: no last chunk, so only a server that stops reading at the limit
    // can answer. (The client stops writing before the answer: a 413 closes the connection, and a client
    // still writing into a closed connection may see the reset before it reads the answer.)
    for (let sent = 0; sent < 5 * MiB && !closed; sent += piece.length) {
      if (!r.sock.write(`${piece.length.toString(16)}\r\n${piece}\r\n`)) await new Promise((res) => (r.sock.once("drain", res), r.sock.once("close", res)));
    }
    const head = await Promise.race([r.head, sleepMs(5000).then(() => undefined)]);
    await Promise.race([r.end, sleepMs(1000)]);
    r.sock.destroy();
    expect(head?.status).toBe(413);
    expect(head?.headers["connection"]).toBe("close");
    expect(JSON.parse(body).reason).toBe("body_too_large");
  });

  test("per-route limits: EchoStream takes 1 KiB, Collect 64 KiB per NDJSON line", async () => {
    const r0 = await post("/v1/echo:stream", echoBody(1024));
    expect(r0.status).toBe(200);
    const r1 = await post("/v1/echo:stream", echoBody(1025));
    expect(r1.status).toBe(413);
    expect((await r1.json()).message).toContain("1024");
    const line = `{"text":"${"y".repeat(64 * 1024)}"}\n`;
    const r2 = await post("/v1/echo:collect", line, { "content-type": "application/x-ndjson" });
    expect(r2.status).toBe(413);
    const r3 = await post("/v1/echo:collect", `{"text":"${"y".repeat(60 * 1024)}"}\n`.repeat(3), { "content-type": "application/x-ndjson" });
    expect(r3.status).toBe(200);
    expect((await r3.json()).n).toBe("3");
  });
});

describe("large unary replies", () => {
  for (const size of [200 * 1024, 16 * MiB]) {
    test(`a ${size / 1024} KiB blob arrives intact (byte i = i % 256)`, async () => {
      const res = await post("/v1/echo", JSON.stringify({ text: "big", size }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      const json = await res.json();
      expect(json.text).toBe("big");
      expect(isPattern(json.blob, size)).toBe(true);
    }, 30_000);
  }

  test("a reply over upstream.maxMessageBytes -> 502 message_too_large naming the limit", async () => {
    const small = await startCountingStack((c) => ({ ...c, upstreams: c.upstreams.map((u) => ({ ...u, maxMessageBytes: "1MiB" })) }));
    try {
      const res = await fetch(`${small.url}/v1/echo`, { method: "POST", body: JSON.stringify({ size: 2 * MiB }) });
      expect(res.status).toBe(502);
      const err = await res.json();
      expect(err.reason).toBe("message_too_large");
      expect(err.message).toContain(`${MiB} bytes`);
      expect(err.message).toContain("maxMessageBytes");
      // A stream whose first message is too large: the same 502, before any byte of the stream.
      const st = await fetch(`${small.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ n: 2, size: 2 * MiB }) });
      expect(st.status).toBe(502);
      const ok = await fetch(`${small.url}/v1/echo`, { method: "POST", body: JSON.stringify({ size: MiB - 64 }) });
      expect(ok.status).toBe(200);
    } finally {
      await small.stop();
    }
  });
});

describe("reply compression", () => {
  const big = JSON.stringify({ text: "compress me", size: 64 * 1024 });

  test("gzip when accepted and over 1 KiB: Content-Encoding, Vary, and the bytes round-trip", async () => {
    const res = await post("/v1/echo", big, { "accept-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toContain("Accept-Encoding");
    // fetch decompresses transparently; check the raw bytes too.
    const json = await res.json();
    expect(isPattern(json.blob, 64 * 1024)).toBe(true);
    const raw = await rawBody("/v1/echo", big, "gzip");
    expect(raw.headers["content-encoding"]).toBe("gzip");
    const plain = JSON.parse(gunzipSync(raw.body).toString());
    expect(isPattern(plain.blob, 64 * 1024)).toBe(true);
    expect(raw.body.length).toBeLessThan(64 * 1024); // the pattern compresses well
  });

  test("br where the runtime has it (Bun, Deno), preferred by q-value", async () => {
    const raw = await rawBody("/v1/echo", big, "gzip;q=0.5, br");
    const supported = typeof CompressionStream !== "undefined" && canBrotli();
    expect(raw.headers["content-encoding"]).toBe(supported ? "br" : "gzip");
    const plain = JSON.parse((supported ? brotliDecompressSync(raw.body) : gunzipSync(raw.body)).toString());
    expect(isPattern(plain.blob, 64 * 1024)).toBe(true);
  });

  test("not compressed: small bodies, no Accept-Encoding, q=0, identity only", async () => {
    const small = await post("/v1/echo", JSON.stringify({ text: "tiny" }), { "accept-encoding": "gzip" });
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(small.headers.get("vary")).toContain("Accept-Encoding");
    for (const ae of [undefined, "gzip;q=0", "identity", "compress"]) {
      const raw = await rawBody("/v1/echo", big, ae);
      expect(raw.headers["content-encoding"]).toBeUndefined();
      expect(isPattern(JSON.parse(raw.body.toString()).blob, 64 * 1024)).toBe(true);
    }
  });

  test("errors are not compressed and keep their status", async () => {
    const res = await post("/v1/echo", "{bad json", { "accept-encoding": "gzip" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-encoding")).toBeNull();
  });
});

function canBrotli(): boolean {
  try {
    new CompressionStream("brotli" as CompressionFormat);
    return true;
  } catch {
    return false;
  }
}

/** The raw (still encoded) body of a POST, via a socket, so nothing decompresses it for us. */
async function rawBody(path: string, body: string, acceptEncoding: string | undefined): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const parts: Buffer[] = [];
  const ae = acceptEncoding === undefined ? "" : `accept-encoding: ${acceptEncoding}\r\n`;
  const r = rawRequest(
    s.port,
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${ae}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
    body,
    (b) => parts.push(Buffer.from(b)),
  );
  const head = await r.head;
  await r.end;
  r.sock.destroy();
  return { headers: head.headers, body: Buffer.concat(parts) };
}
