// Fuzz: thousands of random and mutated frames. The decoders may only ever return
// frames or a GatewayError (UNAVAILABLE, upstream_protocol_error): no other throw,
// no unbounded buffering. Deterministic seeds so any failure reproduces.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayError, GrpcCode, hexToBytes } from "../../core/index.ts";
import { FrameDecoder, decodeException, decodeFrame, decodePayload, encodeMessageFrame, readBizStatus, type TTHeaderFrame } from "./index.ts";

const VECTORS = fileURLToPath(new URL("../../../../shared/protocol/vectors/", import.meta.url));

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dir of ["hand-derived", "kitex-captured"]) {
    for (const f of readdirSync(join(VECTORS, dir)).filter((n) => n.endsWith(".hex"))) {
      const text = readFileSync(join(VECTORS, dir, f), "utf8");
      out.push(hexToBytes(text.split("\n").filter((l) => !l.startsWith("#")).join("")));
    }
  }
  return out;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x7f, 0x80, 0x90, 0xff];

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = src.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(r() * Math.max(1, b.byteLength));
    switch (Math.floor(r() * 7)) {
      case 0: // bit flip
        if (b.byteLength) b[pos] = b[pos]! ^ (1 << Math.floor(r() * 8));
        break;
      case 1: // interesting byte
        if (b.byteLength) b[pos] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        break;
      case 2: // truncate
        b = b.slice(0, pos);
        break;
      case 3: { // insert random bytes
        const ins = new Uint8Array(1 + Math.floor(r() * 8)).map(() => Math.floor(r() * 256));
        const nb = new Uint8Array(b.byteLength + ins.byteLength);
        nb.set(b.subarray(0, pos));
        nb.set(ins, pos);
        nb.set(b.subarray(pos), pos + ins.byteLength);
        b = nb;
        break;
      }
      case 4: // delete a range
        b = new Uint8Array([...b.subarray(0, pos), ...b.subarray(pos + 1 + Math.floor(r() * 8))]);
        break;
      case 5: // patch a u16/u32 field with an extreme value
        if (b.byteLength >= 4) {
          const at = [0, 12, 14, 16, 18, 22][Math.floor(r() * 6)]!;
          if (at + 4 <= b.byteLength) new DataView(b.buffer).setUint32(at, [0, 1, 0xffff, 0x7fffffff, 0xffffffff][Math.floor(r() * 5)]!);
        }
        break;
      default: // splice in a duplicate of itself
        b = new Uint8Array([...b, ...b.subarray(0, pos)]);
    }
  }
  return b;
}

function checkError(e: unknown): void {
  expect(GatewayError.is(e)).toBe(true);
  const g = e as GatewayError;
  expect(g.code).toBe(GrpcCode.UNAVAILABLE);
  expect(g.reason).toBe("upstream_protocol_error");
}

/** Exercises every decoder on one frame's contents; they must return, never throw. */
function digest(frame: TTHeaderFrame): void {
  expect(frame.payload).toBeInstanceOf(Uint8Array);
  const biz = readBizStatus(frame.strHeaders);
  if (!biz.ok) checkError(biz.error);
  const m = decodePayload(frame.payload);
  if (!m.ok) return checkError(m.error);
  if (m.value.type === 3) {
    const ex = decodeException(m.value);
    if (!ex.ok) checkError(ex.error);
  }
}

function run(input: Uint8Array, r: () => number, limits: { maxFrameSize: number; maxHeaderSize: number }): { frames: number; errors: number } {
  let frames = 0;
  let errors = 0;
  const whole = decodeFrame(input, limits);
  if (whole.ok) digest(whole.value);
  else checkError(whole.error);
  const d = new FrameDecoder(limits);
  for (let off = 0; off < input.byteLength; ) {
    const n = 1 + Math.floor(r() * 64);
    const chunk = input.subarray(off, off + n);
    off += n;
    const out = d.push(chunk);
    for (const f of out.frames) digest(f);
    frames += out.frames.length;
    // Never more than one partial frame, which was checked against the limit.
    expect(d.buffered).toBeLessThan(limits.maxFrameSize);
    if (out.error) {
      checkError(out.error);
      errors++;
      break;
    }
  }
  return { frames, errors };
}

describe("fuzz", () => {
  const base = seeds();
  const limits = { maxFrameSize: 4096, maxHeaderSize: 1024 };

  test("mutated vectors and random frames", () => {
    const r = rng(0x5eed);
    // Well-formed random frames as extra seeds.
    for (let i = 0; i < 50; i++) {
      const h = new Map<string, string>([[`k${i}`, "v".repeat(Math.floor(r() * 50))]]);
      base.push(encodeMessageFrame({ strHeaders: h, intHeaders: new Map([[i, "x"]]) }, { codec: "kitex-protobuf", framed: true, type: 1 + (i % 4), method: "M", seqId: i + 1, body: new Uint8Array(i) }));
    }
    let frames = 0;
    let errors = 0;
    for (let i = 0; i < 6000; i++) {
      const src = base[Math.floor(r() * base.length)]!;
      const res = run(mutate(src, r), r, limits);
      frames += res.frames;
      errors += res.errors;
    }
    // Both outcomes happen, so the fuzzer really reaches past the prefix checks.
    expect(frames).toBeGreaterThan(500);
    expect(errors).toBeGreaterThan(500);
  }, 30_000);

  test("random bytes, with and without a valid TTHeader prefix", () => {
    const r = rng(1234);
    for (let i = 0; i < 4000; i++) {
      const len = Math.floor(r() * 300);
      const b = new Uint8Array(len).map(() => Math.floor(r() * 256));
      if (r() < 0.6 && len >= 14) {
        const v = new DataView(b.buffer);
        v.setUint32(0, len - 4);
        v.setUint16(4, 0x1000);
        v.setUint16(12, Math.floor(r() * ((len - 14) / 4 + 1)));
        if (r() < 0.5) b[14] = 0;
      }
      run(b, r, limits);
    }
  }, 30_000);

  test("a stream of many frames with garbage in between fails cleanly", () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const parts = Array.from({ length: 1 + Math.floor(r() * 6) }, () => base[Math.floor(r() * base.length)]!);
      if (r() < 0.7) parts.splice(Math.floor(r() * parts.length), 0, mutate(parts[0]!, r));
      const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
      parts.reduce((o, p) => (all.set(p, o), o + p.byteLength), 0);
      run(all, r, { maxFrameSize: 1 << 20, maxHeaderSize: 65532 });
    }
  }, 30_000);
});
