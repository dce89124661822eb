// Frame writer -> reader round trips (RFC 9113 4.1, 6), split at every byte boundary, and size limits.
import { describe, expect, test } from "bun:test";
import { ErrorCode, Flag, FrameType } from "./constants.ts";
import { H2ConnectionError } from "./errors.ts";
import { FrameReader } from "./frame-reader.ts";
import { FrameWriter } from "./frame-writer.ts";

interface F {
  type: number;
  flags: number;
  streamId: number;
  payload: number[];
}

function collect(max = 16_384): { reader: FrameReader; frames: F[] } {
  const frames: F[] = [];
  const reader = new FrameReader(max, (type, flags, streamId, payload) => frames.push({ type, flags, streamId, payload: [...payload] }));
  return { reader, frames };
}

function sample(): Uint8Array {
  const w = new FrameWriter(16);
  w.settings([[4, 1 << 20], [2, 0]]);
  w.settingsAck();
  w.headers(1, new Uint8Array(40).fill(7), false, 16); // HEADERS + 2 CONTINUATION
  w.data(1, new Uint8Array([1, 2, 3]), true);
  w.data(3, new Uint8Array(0), false);
  w.rstStream(3, ErrorCode.CANCEL);
  w.ping(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), true);
  w.goaway(0x7fffffff, ErrorCode.ENHANCE_YOUR_CALM, new TextEncoder().encode("calm"));
  w.windowUpdate(0, 0x7fffffff);
  w.windowUpdate(5, 1);
  return w.take()!;
}

const expected: F[] = [
  { type: FrameType.SETTINGS, flags: 0, streamId: 0, payload: [0, 4, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0] },
  { type: FrameType.SETTINGS, flags: Flag.ACK, streamId: 0, payload: [] },
  { type: FrameType.HEADERS, flags: 0, streamId: 1, payload: Array(16).fill(7) },
  { type: FrameType.CONTINUATION, flags: 0, streamId: 1, payload: Array(16).fill(7) },
  { type: FrameType.CONTINUATION, flags: Flag.END_HEADERS, streamId: 1, payload: Array(8).fill(7) },
  { type: FrameType.DATA, flags: Flag.END_STREAM, streamId: 1, payload: [1, 2, 3] },
  { type: FrameType.DATA, flags: 0, streamId: 3, payload: [] },
  { type: FrameType.RST_STREAM, flags: 0, streamId: 3, payload: [0, 0, 0, 8] },
  { type: FrameType.PING, flags: Flag.ACK, streamId: 0, payload: [1, 2, 3, 4, 5, 6, 7, 8] },
  { type: FrameType.GOAWAY, flags: 0, streamId: 0, payload: [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 11, 99, 97, 108, 109] },
  { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 0, payload: [0x7f, 0xff, 0xff, 0xff] },
  { type: FrameType.WINDOW_UPDATE, flags: 0, streamId: 5, payload: [0, 0, 0, 1] },
];

describe("frame codec", () => {
  test("round trip in one chunk", () => {
    const { reader, frames } = collect();
    reader.push(sample());
    expect(frames).toEqual(expected);
    expect(reader.buffered).toBe(0);
  });

  test("round trip split at every byte boundary, and byte by byte", () => {
    const bytes = sample();
    for (let cut = 1; cut < bytes.length; cut++) {
      const { reader, frames } = collect();
      reader.push(bytes.subarray(0, cut));
      reader.push(bytes.subarray(cut));
      expect(frames).toEqual(expected);
    }
    const { reader, frames } = collect();
    for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
    expect(frames).toEqual(expected);
  });

  test("a single HEADERS frame when the block fits", () => {
    const w = new FrameWriter();
    w.headers(7, new Uint8Array(10), true, 16_384);
    const { reader, frames } = collect();
    reader.push(w.take()!);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.flags).toBe(Flag.END_STREAM | Flag.END_HEADERS);
  });

  test("the reserved bit of the stream id is ignored on receipt (RFC 9113 4.1)", () => {
    const { reader, frames } = collect();
    reader.push(new Uint8Array([0, 0, 0, FrameType.DATA, 0, 0x80, 0, 0, 3]));
    expect(frames[0]!.streamId).toBe(3);
  });

  test("a frame over our SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR before its payload is buffered", () => {
    const { reader } = collect(16_384);
    let err: unknown;
    try {
      reader.push(new Uint8Array([0, 0x40, 0x01, FrameType.DATA, 0, 0, 0, 0, 1])); // 16385 bytes announced
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(H2ConnectionError);
    expect((err as H2ConnectionError).code).toBe(ErrorCode.FRAME_SIZE_ERROR);
    expect(reader.buffered).toBe(0);
  });

  test("a frame exactly at the limit is accepted", () => {
    const w = new FrameWriter();
    w.data(1, new Uint8Array(16_384).fill(9), false);
    const { reader, frames } = collect(16_384);
    const bytes = w.take()!;
    reader.push(bytes.subarray(0, 100));
    expect(reader.buffered).toBe(100 - 9);
    reader.push(bytes.subarray(100));
    expect(frames[0]!.payload.length).toBe(16_384);
  });

  test("payloads inside one chunk are views (no copy)", () => {
    const w = new FrameWriter();
    w.data(1, new Uint8Array([5, 6]), false);
    const bytes = w.take()!;
    let view: Uint8Array | undefined;
    new FrameReader(16_384, (_t, _f, _s, p) => (view = p)).push(bytes);
    expect(view!.buffer).toBe(bytes.buffer);
  });
});
