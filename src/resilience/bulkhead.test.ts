import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import { Bulkhead, type BulkheadRejection } from "./bulkhead.ts";

/** A call that runs until released. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { release, fn: async () => done };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("Bulkhead", () => {
  test("runs up to maxConcurrent, queues up to maxQueue, refuses the overflow with 503-class overloaded", async () => {
    const b = new Bulkhead({ name: "orders", maxConcurrent: 2, maxQueue: 1, queueTimeoutMs: 1000 });
    const rejections: BulkheadRejection[] = [];
    b.onReject.on((r) => rejections.push(r));
    const g = [gate(), gate(), gate()];
    const started: number[] = [];
    const runs = g.map((x, i) =>
      b.execute(async () => {
        started.push(i);
        await x.fn();
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(b.stats()).toMatchObject({ active: 2, queued: 1 });

    let overflowRan = false;
    const e = await b.execute(async () => void (overflowRan = true)).catch((x: unknown) => x);
    expect(overflowRan).toBe(false);
    expect(GatewayError.is(e)).toBe(true);
    expect((e as GatewayError).code).toBe(GrpcCode.UNAVAILABLE);
    expect((e as GatewayError).reason).toBe(Reason.overloaded);
    expect((e as GatewayError).message).toContain("orders");
    expect(rejections).toEqual([{ name: "orders", why: "queue_full" }]);

    g[0]!.release();
    await runs[0];
    await tick();
    expect(started).toEqual([0, 1, 2]); // the queued call took the freed slot
    expect(b.stats()).toMatchObject({ active: 2, queued: 0, rejected: 1 });
    g[1]!.release();
    g[2]!.release();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(b.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  test("a queued call gives up after queueTimeoutMs", async () => {
    const b = new Bulkhead({ name: "slow", maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 20 });
    const g = gate();
    const first = b.execute(g.fn);
    let ran = false;
    const e = await b.execute(async () => void (ran = true)).catch((x: unknown) => x);
    expect(ran).toBe(false);
    expect((e as GatewayError).reason).toBe(Reason.overloaded);
    expect(b.stats()).toMatchObject({ active: 1, queued: 0, timedOut: 1 });
    g.release();
    await first;
    expect(b.stats().active).toBe(0);
  });

  test("maxQueue 0 refuses as soon as all slots are busy", async () => {
    const b = new Bulkhead({ name: "x", maxConcurrent: 1 });
    const g = gate();
    const first = b.execute(g.fn);
    await expect(b.execute(async () => 1)).rejects.toMatchObject({ reason: Reason.overloaded });
    g.release();
    await first;
    expect(await b.execute(async () => 2)).toBe(2);
  });

  test("aborting a queued call removes it from the queue", async () => {
    const b = new Bulkhead({ name: "x", maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: 5000 });
    const g = gate();
    const first = b.execute(g.fn);
    const ctl = new AbortController();
    let ran = false;
    const queued = b.execute(async () => void (ran = true), ctl.signal).catch((x: unknown) => x);
    expect(b.stats().queued).toBe(1);
    const why = new Error("client left");
    ctl.abort(why);
    expect(await queued).toBe(why);
    expect(b.stats().queued).toBe(0);
    g.release();
    await first;
    expect(ran).toBe(false);
    expect(b.stats().active).toBe(0);
  });

  test("a failing call frees its slot", async () => {
    const b = new Bulkhead({ name: "x", maxConcurrent: 1 });
    await b.execute(async () => Promise.reject(new Error("boom"))).catch(() => {});
    expect(b.stats().active).toBe(0);
    expect(await b.execute(async () => "ok")).toBe("ok");
  });
});

describe("Bulkhead.acquire", () => {
  test("a hand-taken slot counts until released, and double release frees it once", async () => {
    const b = new Bulkhead({ name: "streams", maxConcurrent: 2 });
    const r1 = await b.acquire();
    const r2 = await b.acquire();
    await expect(b.acquire()).rejects.toMatchObject({ reason: Reason.overloaded });
    r1();
    r1();
    expect(b.stats().active).toBe(1);
    const r3 = await b.acquire();
    expect(b.stats().active).toBe(2);
    r2();
    r3();
    expect(b.stats().active).toBe(0);
  });
});
