// upstreams[].maxConcurrent with queueSize/queueTimeout: a saturated upstream holds a bounded number of calls
// in a FIFO queue for at most queueTimeout, then answers 503 overloaded naming the upstream; beyond the
// queue, 503 at once. Ordering is checked with the bulkhead's own stats (admin) and settle order, never time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { call, waitFor, type Outcome } from "../helpers/fault-load.ts";

let backend: DemoBackend;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  for (const c of cleanup) await c();
  backend.kill();
});

async function gateway(queueTimeout: string): Promise<Gateway> {
  const gw = await startFaultGateway({
    upstream: { name: "capped", endpoints: [`127.0.0.1:${backend.grpcPort}`], maxConcurrent: 1, queueSize: 1, queueTimeout, breaker: false },
  });
  cleanup.push(() => gw.stop({ timeoutMs: 5000 }));
  return gw;
}

async function bulkhead(gw: Gateway): Promise<{ active: number; queued: number }> {
  const body = (await (await fetch(`${gw.url}/admin/upstreams`)).json()) as { upstreams: { name: string; bulkhead: { active: number; queued: number } }[] };
  return body.upstreams.find((u) => u.name === "capped")!.bulkhead;
}

/** The call, plus a flag telling whether it has settled. */
function tracked(p: Promise<Outcome>): { result: Promise<Outcome>; settled: () => boolean } {
  let done = false;
  const result = p.finally(() => {
    done = true;
  });
  return { result, settled: () => done };
}

describe("upstream bulkhead queue (maxConcurrent 1, queueSize 1)", () => {
  test("the second call waits and succeeds once the first is done; a third is refused 503 at once", async () => {
    const gw = await gateway("20s");
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    const first = tracked(call(url, { text: "first", delayMs: 2500 }, {}, 30_000));
    expect(await waitFor(async () => (await bulkhead(gw)).active === 1, 10_000)).toBe(true);
    const second = tracked(call(url, { text: "second" }, {}, 30_000));
    expect(await waitFor(async () => (await bulkhead(gw)).queued === 1, 10_000)).toBe(true);
    const third = await call(url, { text: "third" }, {}, 30_000);
    // Refused while the first still runs and the second still waits: no waiting for a slot.
    expect(first.settled()).toBe(false);
    expect(second.settled()).toBe(false);
    expect(third.status).toBe(503);
    expect(third.reason).toBe("overloaded");
    expect((third.body as { upstream?: string }).upstream).toBe("capped");
    const [a, b] = await Promise.all([first.result, second.result]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect((b.body as { text: string }).text).toBe("second");
    expect(await bulkhead(gw)).toMatchObject({ active: 0, queued: 0 });
  }, 40_000);

  test("a queued call still waiting after queueTimeout gets 503 overloaded naming the upstream", async () => {
    const gw = await gateway("300ms");
    const url = `${gw.url}/demo.v1.EchoService/Echo`;
    // Long enough that the queue timeout fires first even on a loaded machine; the assertion below checks it did.
    const first = tracked(call(url, { text: "first", delayMs: 5000 }, {}, 30_000));
    expect(await waitFor(async () => (await bulkhead(gw)).active === 1, 10_000)).toBe(true);
    const queued = await call(url, { text: "queued" }, {}, 30_000);
    expect(first.settled()).toBe(false);
    expect(queued.status).toBe(503);
    expect(queued.reason).toBe("overloaded");
    const body = queued.body as { upstream?: string; message?: string };
    expect(body.upstream).toBe("capped");
    expect(body.message).toContain("capped");
    expect(body.message).toContain("300ms");
    expect((await first.result).status).toBe(200);
  }, 40_000);
});
