import { describe, expect, test } from "bun:test";
import { ReplayableRequests } from "./replayable-requests.ts";

const bytes = (...xs: number[]) => new Uint8Array(xs);

/** A one-shot source that counts pulls and whether it was closed. */
function source(items: Uint8Array[]) {
  const s = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (const m of items) {
        s.pulled++;
        yield m;
      }
    } finally {
      s.closed = true;
    }
  }
  return { s, it: gen() };
}

async function readAll(it: AsyncIterable<Uint8Array>, max = Infinity): Promise<number[]> {
  const out: number[] = [];
  for await (const m of it) {
    out.push(m[0]!);
    if (out.length >= max) break;
  }
  return out;
}

describe("ReplayableRequests", () => {
  test("a second view replays what the first pulled, then continues from the source; the first view ends", async () => {
    const { s, it } = source([bytes(1), bytes(2), bytes(3)]);
    const r = new ReplayableRequests(it, 1024);
    const a = r.view()[Symbol.asyncIterator]();
    expect((await a.next()).value).toEqual(bytes(1));
    expect((await a.next()).value).toEqual(bytes(2));
    const b = r.view();
    expect((await a.next()).done).toBe(true); // given up
    expect(await readAll(b)).toEqual([1, 2, 3]);
    expect(s.pulled).toBe(3);
  });

  test("after settle() nothing is kept: the live view goes on, a retry is no longer possible", async () => {
    const { it } = source([bytes(1), bytes(2), bytes(3)]);
    const r = new ReplayableRequests(it, 1024);
    const a = r.view()[Symbol.asyncIterator]();
    await a.next();
    expect(r.replayable).toBe(true);
    r.settle();
    expect(r.replayable).toBe(false);
    expect((await a.next()).value).toEqual(bytes(2));
    expect((await a.next()).value).toEqual(bytes(3));
    expect((await a.next()).done).toBe(true);
  });

  test("more than the byte limit pulled: no replay any more", async () => {
    const { it } = source([new Uint8Array(600), new Uint8Array(600), bytes(9)]);
    const r = new ReplayableRequests(it, 1000);
    const a = r.view()[Symbol.asyncIterator]();
    await a.next();
    expect(r.replayable).toBe(true);
    await a.next();
    expect(r.replayable).toBe(false);
    expect((await a.next()).value).toEqual(bytes(9));
  });

  test("a view's return() closes the source only once no retry can follow", async () => {
    const { s, it } = source([bytes(1), bytes(2), bytes(3)]);
    const r = new ReplayableRequests(it, 1024);
    expect(await readAll(r.view(), 1)).toEqual([1]); // break -> return()
    expect(s.closed).toBe(false);
    r.settle();
    for (let i = 0; i < 10 && !s.closed; i++) await Promise.resolve();
    expect(s.closed).toBe(true);
  });

  test("a source error reaches the live view after the replayed messages", async () => {
    async function* failing() {
      yield bytes(1);
      throw new Error("body cut");
    }
    const r = new ReplayableRequests(failing(), 1024);
    const a = r.view()[Symbol.asyncIterator]();
    await a.next();
    const b = r.view()[Symbol.asyncIterator]();
    expect((await b.next()).value).toEqual(bytes(1));
    await expect(b.next()).rejects.toThrow("body cut");
  });
});
