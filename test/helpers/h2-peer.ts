// Test helper (tests only): a scripted HTTP/2 server speaking raw frames on 127.0.0.1, to drive the
// client through exact frame sequences, malformed ones included.
import net from "node:net";
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, FrameWriter, HpackDecoder, HpackEncoder, type HeaderMap } from "../../src/protocol/h2/index.ts";

export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
  /** Decoded request headers, on the frame that ends a header block. */
  headers?: HeaderMap;
}

export class PeerConn {
  readonly socket: net.Socket;
  readonly frames: RawFrame[] = [];
  closed = false;
  #waiters: (() => void)[] = [];
  #decoder = new HpackDecoder();
  readonly encoder = new HpackEncoder();
  #prefaceLeft = CLIENT_PREFACE.length;
  #reader: FrameReader;
  prefaceOk = true;

  constructor(socket: net.Socket) {
    this.socket = socket;
    let block: Uint8Array[] | undefined;
    this.#reader = new FrameReader(1 << 24, (type, flags, streamId, payload) => {
      const f: RawFrame = { type, flags, streamId, payload: payload.slice() };
      if (type === FrameType.HEADERS) {
        let p = f.payload;
        if (flags & Flag.PADDED) p = p.subarray(1, p.length - p[0]!);
        if (flags & Flag.PRIORITY) p = p.subarray(5);
        block = [p];
      } else if (type === FrameType.CONTINUATION) {
        block?.push(f.payload);
      }
      // Decoded headers are attached to the frame that ends the block (HEADERS or CONTINUATION).
      if ((type === FrameType.HEADERS || type === FrameType.CONTINUATION) && flags & Flag.END_HEADERS && block) {
        const all = new Uint8Array(block.reduce((n, b) => n + b.length, 0));
        let off = 0;
        for (const b of block) {
          all.set(b, off);
          off += b.length;
        }
        block = undefined;
        f.headers = this.#decoder.decode(all);
      }
      this.frames.push(f);
      this.#wake();
    });
    socket.on("data", (b: Buffer) => {
      let chunk = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      if (this.#prefaceLeft > 0) {
        const n = Math.min(this.#prefaceLeft, chunk.length);
        const off = CLIENT_PREFACE.length - this.#prefaceLeft;
        for (let i = 0; i < n; i++) if (chunk[i] !== CLIENT_PREFACE[off + i]) this.prefaceOk = false;
        this.#prefaceLeft -= n;
        chunk = chunk.subarray(n);
      }
      if (chunk.length) this.#reader.push(chunk);
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits (bounded) until `pred` holds over the frames seen so far. */
  async until<T>(pred: (frames: RawFrame[]) => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.frames);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${this.frames.map((f) => `${f.type}/${f.flags}/${f.streamId}`).join(" ")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): void {
    const w = new FrameWriter();
    w.frame(type, flags, streamId, payload instanceof Uint8Array ? payload : Uint8Array.from(payload));
    this.socket.write(w.take()!);
  }

  write(build: (w: FrameWriter) => void): void {
    const w = new FrameWriter();
    build(w);
    const b = w.take();
    if (b) this.socket.write(b);
  }

  settings(pairs: [number, number][] = []): void {
    this.write((w) => w.settings(pairs));
  }

  respond(streamId: number, headers: Record<string, string>, endStream = false): void {
    const block = this.encoder.encode(headers);
    this.write((w) => w.headers(streamId, block, endStream, 16384));
  }
}

export async function startPeer(onConn: (c: PeerConn) => void): Promise<{ port: number; conns: PeerConn[]; close(): Promise<void> }> {
  const conns: PeerConn[] = [];
  const server = net.createServer((sock) => {
    const c = new PeerConn(sock);
    conns.push(c);
    onConn(c);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.socket.destroy();
        server.close(() => r());
      }),
  };
}

export function u32(b: Uint8Array, p = 0): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}
