// coalesceWrites: writes of one turn leave together, in order, and end() flushes what is queued.
import { describe, expect, test } from "bun:test";
import net from "node:net";
import { connectTcp } from "./node-net.ts";

async function sink(): Promise<{ port: number; received: Promise<{ bytes: Buffer; chunks: number }>; close(): void }> {
  let resolveReceived!: (v: { bytes: Buffer; chunks: number }) => void;
  const received = new Promise<{ bytes: Buffer; chunks: number }>((r) => (resolveReceived = r));
  const server = net.createServer((sock) => {
    const parts: Buffer[] = [];
    sock.on("data", (b) => parts.push(b));
    sock.on("end", () => {
      resolveReceived({ bytes: Buffer.concat(parts), chunks: parts.length });
      sock.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, received, close: () => server.close() };
}

const noop = { data() {}, drain() {}, close() {} };

describe("connectTcp coalesceWrites", () => {
  test("200 small writes in one turn: held until the turn ends, then arrive whole and in order", async () => {
    const s = await sink();
    const conn = await connectTcp({ host: "127.0.0.1", port: s.port, coalesceWrites: true }, noop);
    const expected: number[] = [];
    for (let i = 0; i < 200; i++) {
      const frame = new Uint8Array([i & 0xff, (i * 7) & 0xff, 0xab]);
      expected.push(...frame);
      expect(conn.write(frame)).toBe(true);
    }
    // Still queued in this turn: nothing handed to the socket yet, all of it counted as buffered.
    expect(conn.bufferedAmount).toBe(600);
    await new Promise((r) => setTimeout(r, 20));
    conn.end();
    const got = await s.received;
    expect([...got.bytes]).toEqual(expected);
    s.close();
  });

  test("end() right after writes flushes the queue before closing", async () => {
    const s = await sink();
    const conn = await connectTcp({ host: "127.0.0.1", port: s.port, coalesceWrites: true }, noop);
    conn.write(new TextEncoder().encode("hello "));
    conn.write(new TextEncoder().encode("world"));
    conn.end();
    expect((await s.received).bytes.toString()).toBe("hello world");
    s.close();
  });

  test("without the option writes go straight to the socket", async () => {
    const s = await sink();
    const conn = await connectTcp({ host: "127.0.0.1", port: s.port }, noop);
    conn.write(new Uint8Array(600));
    conn.end();
    expect((await s.received).bytes.length).toBe(600);
    s.close();
  });
});
