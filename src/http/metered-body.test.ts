import { describe, expect, test } from "bun:test";
import { meterBody, type BodyEnd } from "./metered-body.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function source(chunks: Uint8Array[], pulls: { n: number }): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        pulls.n++;
        if (i < chunks.length) ctl.enqueue(chunks[i++]!);
        else ctl.close();
      },
    },
    { highWaterMark: 0 },
  );
}

describe("meterBody", () => {
  test("counts bytes and reports the end once", async () => {
    const ends: BodyEnd[] = [];
    let bytes = 0;
    const body = meterBody(source([new Uint8Array(3), new Uint8Array(5)], { n: 0 }), (n) => (bytes += n), (e) => ends.push(e));
    const text = await new Response(body).arrayBuffer();
    expect(text.byteLength).toBe(8);
    expect(bytes).toBe(8);
    expect(ends).toEqual(["done"]);
  });

  test("pulls from the source only as the consumer reads (no read-ahead)", async () => {
    const pulls = { n: 0 };
    const body = meterBody(source([new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)], pulls), () => {}, () => {});
    await sleep(10);
    expect(pulls.n).toBe(0);
    const reader = body.getReader();
    await reader.read();
    await sleep(10);
    expect(pulls.n).toBe(1);
    await reader.cancel();
  });

  test("a cancel by the consumer is reported and reaches the source", async () => {
    const ends: BodyEnd[] = [];
    let cancelled = false;
    const src = new ReadableStream<Uint8Array>({
      pull(ctl) {
        ctl.enqueue(new Uint8Array(2));
      },
      cancel() {
        cancelled = true;
      },
    });
    const reader = meterBody(src, () => {}, (e) => ends.push(e)).getReader();
    await reader.read();
    await reader.cancel("gone");
    expect(ends).toEqual(["cancelled"]);
    expect(cancelled).toBe(true);
  });

  test("a source error is reported and passed on", async () => {
    const ends: BodyEnd[] = [];
    const src = new ReadableStream<Uint8Array>({
      pull() {
        throw new Error("upstream broke");
      },
    });
    const reader = meterBody(src, () => {}, (e) => ends.push(e)).getReader();
    await expect(reader.read()).rejects.toThrow("upstream broke");
    expect(ends).toEqual(["error"]);
  });
});
