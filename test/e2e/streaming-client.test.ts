// Client streaming from NDJSON request bodies (POST /v1/echo:collect, rpc Collect(stream EchoRequest)):
// each line goes upstream as it arrives, the body is never buffered whole, and a bad line is a 400.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rawRequest, sleepMs, startCountingStack, type InProcessStack } from "./streaming-kit.ts";

let s: InProcessStack;
beforeAll(async () => {
  s = await startCountingStack();
});
afterAll(async () => {
  await s.stop();
});

const ndjson = { "content-type": "application/x-ndjson" };

describe("NDJSON request body -> client stream", () => {
  test("every line is a message; the reply counts them and concatenates their texts", async () => {
    const body = ['{"text":"a"}', '{"text":"b"}', "", '  {"text":"c"}  ', '{"text":"d"}'].join("\n");
    const res = await fetch(`${s.url}/v1/echo:collect`, { method: "POST", body, headers: ndjson });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: "abcd", n: "4" });
  });

  test("a client stream longer than the unary body limit (6 MiB in total) is not cut off", async () => {
    const line = JSON.stringify({ text: "x".repeat(1000) }) + "\n";
    const count = Math.ceil((6 * 1024 * 1024) / line.length);
    const res = await fetch(`${s.url}/v1/echo:collect`, { method: "POST", body: line.repeat(count), headers: ndjson });
    expect(res.status).toBe(200);
    const reply = await res.json();
    expect(reply.n).toBe(String(count));
    expect(reply.text.length).toBe(count * 1000);
  }, 30_000);

  test("a last line without a trailing newline counts; an empty body is zero messages", async () => {
    const one = await fetch(`${s.url}/demo.v1.EchoService/Collect`, { method: "POST", body: '{"text":"x"}\n{"text":"y"}', headers: ndjson });
    expect(await one.json()).toEqual({ text: "xy", n: "2" });
    const none = await fetch(`${s.url}/demo.v1.EchoService/Collect`, { method: "POST", body: "", headers: ndjson });
    expect(none.status).toBe(200);
    expect(await none.json()).toEqual({});
  });

  test("a bad line mid-stream -> 400 bad_json naming the line; nothing after it goes upstream", async () => {
    const seen = s.backend.stats.collectSeen.length;
    const body = ['{"text":"a"}', '{"text":"b"}', '{"text": nope}', '{"text":"d"}'].join("\n") + "\n";
    const res = await fetch(`${s.url}/v1/echo:collect`, { method: "POST", body, headers: ndjson });
    expect(res.status).toBe(400);
    const err = await res.json();
    expect(err.reason).toBe("bad_json");
    expect(err.message).toContain("line 3");
    await sleepMs(100);
    expect(s.backend.stats.collectSeen.slice(seen).map((m) => m.text)).toEqual(["a", "b"]);
  });

  test("a line that is JSON but not an EchoRequest -> 400 naming the field", async () => {
    const res = await fetch(`${s.url}/v1/echo:collect`, { method: "POST", body: '{"text":"a"}\n{"n":"many"}\n', headers: ndjson });
    expect(res.status).toBe(400);
    const err = await res.json();
    expect(err.reason).toBe("bad_field");
    expect(err.message).toContain("n");
  });

  test("a body sent slowly in chunks: the backend sees the first message before the body ends", async () => {
    const seen = s.backend.stats.collectSeen.length;
    const r = rawRequest(
      s.port,
      "POST /v1/echo:collect HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n",
      undefined,
      () => {},
    );
    const chunk = (text: string) => r.sock.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    chunk('{"text":"slow-1"}\n');
    await sleepMs(400);
    chunk('{"text":"slow-');
    await sleepMs(200);
    chunk('2"}\n{"text":"slow-3"}\n');
    await sleepMs(200);
    const bodyEnded = Date.now();
    r.sock.write("0\r\n\r\n");
    const head = await r.head;
    r.sock.destroy();
    expect(head.status).toBe(200);
    // Only this test's lines: a line an earlier test sent upstream before its 400 may reach the backend late.
    const arrivals = s.backend.stats.collectSeen.slice(seen).filter((a) => a.text.startsWith("slow-"));
    expect(arrivals.map((a) => a.text)).toEqual(["slow-1", "slow-2", "slow-3"]);
    // The first line reached the backend while the client was still sending (400 ms before the end).
    expect(arrivals[0]!.at).toBeLessThan(bodyEnded - 300);
    // A line split across chunks waits for its newline.
    expect(arrivals[1]!.at).toBeGreaterThanOrEqual(arrivals[0]!.at + 500);
  });

  test("a line longer than the body limit -> 413 without waiting for its newline", async () => {
    let body = "";
    const r = rawRequest(
      s.port,
      "POST /v1/echo:collect HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n",
      undefined,
      (b) => (body += Buffer.from(b).toString()),
    );
    let answered = false;
    void r.head.then(() => (answered = true), () => {});
    const piece = '{"text":"' + "x".repeat(256 * 1024);
    let sent = 0;
    // 4 MiB + 256 KiB of one unfinished line, then nothing: the answer must not need the newline.
    for (let i = 0; i < 17 && !answered; i++) {
      r.sock.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
      sent += piece.length;
      await sleepMs(5);
    }
    const head = await r.head;
    await Promise.race([r.end, sleepMs(2000)]);
    r.sock.destroy();
    expect(head.status).toBe(413);
    expect(JSON.parse(body).reason).toBe("body_too_large");
  });
});
