// Issue 4: when every connection of an endpoint is saturated, calls wait in a bounded queue with a timeout,
// then get a clear 503 (reason pool_exhausted) — never unbounded queuing. The backend holds every call
// until the test opens its gate, so the number of calls in flight is exact, not a matter of timing.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, portFor, PROTOCOLS, startFaultGateway, type ProtocolName } from "../helpers/fault-gateway.ts";
import { call, waitFor, type Outcome } from "../helpers/fault-load.ts";
import { startGatedBackend, type GatedBackend } from "../helpers/gated-backend.ts";

let backend: GatedBackend;
let gw: Gateway | undefined;
beforeAll(async () => {
  backend = await startGatedBackend();
});
afterEach(async () => {
  backend.open();
  await gw?.stop();
  gw = undefined;
  backend.close();
});
afterAll(async () => {
  await backend.stop();
});

async function gateway(protocol: ProtocolName, pool: Record<string, unknown>): Promise<Gateway> {
  gw = await startFaultGateway({
    upstream: {
      name: "demo",
      ...PROTOCOLS[protocol],
      endpoints: [`127.0.0.1:${portFor(backend, protocol)}`],
      breaker: false,
      ...(protocol === "ttheader-mux" ? { muxConnections: 1 } : {}),
      pool: { minConnections: 1, maxConnections: 1, ...pool },
    },
  });
  return gw;
}

const pool = async (g: Gateway) => (await adminUpstream(g, "demo")).endpoints[0]!;

describe("saturated endpoint: bounded wait queue, then 503 pool_exhausted", () => {
  for (const protocol of ["grpc", "ttheader-mux", "ttheader-pool"] as const) {
    // pool mode: one call per connection, so maxConnections 2 gives the same two slots.
    const slots = protocol === "ttheader-pool" ? { maxConnections: 2 } : { maxConcurrentPerConnection: 2 };

    test(`${protocol}: 2 calls in flight, 2 queued; the 5th and 6th are refused at once; the queued ones run when slots free`, async () => {
      const g = await gateway(protocol, { ...slots, queueSize: 2, queueTimeout: "20s" });
      const url = `${g.url}/demo.v1.EchoService/Echo`;
      const enteredBefore = backend.entered;
      const first = [call(url, { text: "a" }, {}, 25_000), call(url, { text: "b" }, {}, 25_000)];
      expect(await waitFor(() => backend.held === 2, 5_000)).toBe(true);
      const queued = [call(url, { text: "c" }, {}, 25_000), call(url, { text: "d" }, {}, 25_000)];
      expect(await waitFor(async () => (await pool(g)).queued === 2, 5_000)).toBe(true);

      const refused = await Promise.all([call(url, { text: "e" }), call(url, { text: "f" })]);
      // Refused while the gate is still closed: nothing was waiting for a slot to free.
      expect(backend.held).toBe(2);
      for (const r of refused) {
        expect(r.status).toBe(503);
        expect(r.reason).toBe("pool_exhausted");
        expect((r.body as { code: string; message: string }).code).toBe("UNAVAILABLE");
        expect((r.body as { message: string }).message).toContain("queue of 2 is full");
      }

      backend.open();
      const served: Outcome[] = await Promise.all([...first, ...queued]);
      expect(served.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(served.map((r) => (r.body as { text: string }).text)).toEqual(["a", "b", "c", "d"]);
      // Never more than the two slots at once on the backend, and the refused calls never reached it.
      expect(backend.entered - enteredBefore).toBe(4);
      expect(backend.held).toBe(0);
      const after = await pool(g);
      expect(after.queued).toBe(0);
      expect(after.inFlight).toBe(0);
    }, 30_000);
  }

  test("grpc: a queued call that waits longer than queueTimeout gets 503 pool_exhausted, while the held calls still run", async () => {
    const g = await gateway("grpc", { maxConcurrentPerConnection: 1, queueSize: 5, queueTimeout: "300ms" });
    const url = `${g.url}/demo.v1.EchoService/Echo`;
    const held = call(url, { text: "held" }, {}, 25_000);
    expect(await waitFor(() => backend.held === 1, 5_000)).toBe(true);
    const waited = await call(url, { text: "waits" });
    expect(waited.status).toBe(503);
    expect(waited.reason).toBe("pool_exhausted");
    expect((waited.body as { message: string }).message).toContain("waited 300 ms");
    expect(waited.ms).toBeGreaterThanOrEqual(290); // it did wait in the queue first
    expect(backend.held).toBe(1); // the slot never freed: the timeout, not a served call, ended the wait
    expect((await pool(g)).queued).toBe(0); // the timed-out waiter left the queue
    backend.open();
    expect((await held).status).toBe(200);
  }, 30_000);
});
