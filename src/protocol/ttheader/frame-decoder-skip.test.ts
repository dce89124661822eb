// FrameDecoder with skipOversized: an oversized but well-formed frame is reported with its seq id and
// read past without being buffered; frames around it decode normally, however the bytes are split.
import { describe, expect, test } from "bun:test";
import { concatBytes } from "../../core/index.ts";
import { FrameDecoder, encodeFrame, type DecodeOutput } from "./index.ts";

const LIMIT = 1024;
const frame = (seqId: number, payloadBytes: number) => encodeFrame({ seqId, payload: new Uint8Array(payloadBytes).fill(seqId & 0xff) }, { maxFrameSize: 1 << 24, maxHeaderSize: 65532 });

/** Pushes `bytes` in pieces of `step` and gathers everything the decoder reported. */
function feed(d: FrameDecoder, bytes: Uint8Array, step: number) {
  const seqs: number[] = [];
  const skipped: { seqId: number; size: number }[] = [];
  let error: DecodeOutput["error"];
  let maxBuffered = 0;
  for (let i = 0; i < bytes.byteLength; i += step) {
    const out = d.push(bytes.subarray(i, i + step));
    seqs.push(...out.frames.map((f) => f.seqId));
    skipped.push(...(out.skipped ?? []));
    error ??= out.error;
    maxBuffered = Math.max(maxBuffered, d.buffered);
  }
  return { seqs, skipped, error, maxBuffered };
}

describe("FrameDecoder skipOversized", () => {
  const small1 = frame(1, 100);
  const big = frame(2, 5000);
  const small3 = frame(3, 200);
  const stream = concatBytes([small1, big, small3]);

  for (const step of [1, 7, 13, 100, 4096, stream.byteLength]) {
    test(`pieces of ${step} bytes: frames 1 and 3 decode, frame 2 is reported skipped, nothing big is buffered`, () => {
      const r = feed(new FrameDecoder({ maxFrameSize: LIMIT }, { skipOversized: true }), stream, step);
      expect(r.error).toBeUndefined();
      expect(r.seqs).toEqual([1, 3]);
      expect(r.skipped).toEqual([{ seqId: 2, size: big.byteLength }]);
      expect(r.maxBuffered).toBeLessThanOrEqual(LIMIT);
    });
  }

  test("two oversized frames in a row, then a normal one", () => {
    const r = feed(new FrameDecoder({ maxFrameSize: LIMIT }, { skipOversized: true }), concatBytes([frame(5, 3000), frame(-7, 2000), frame(8, 10)]), 333);
    expect(r.skipped.map((s) => s.seqId)).toEqual([5, -7]);
    expect(r.seqs).toEqual([8]);
  });

  test("without the option an oversized frame fails the stream, as before", () => {
    const r = feed(new FrameDecoder({ maxFrameSize: LIMIT }), stream, 64);
    expect(r.seqs).toEqual([1]);
    expect(r.skipped).toEqual([]);
    expect(r.error?.message).toContain("exceeds the limit of 1024 bytes");
  });

  test("an oversized length without the TTHeader magic is garbage, not a frame to skip", () => {
    const bad = new Uint8Array(64);
    new DataView(bad.buffer).setUint32(0, 50_000);
    const r = feed(new FrameDecoder({ maxFrameSize: LIMIT }, { skipOversized: true }), bad, 64);
    expect(r.skipped).toEqual([]);
    expect(r.error?.reason).toBe("upstream_protocol_error");
  });
});
