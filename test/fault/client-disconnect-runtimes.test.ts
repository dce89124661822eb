// Issue 5, on the other two runtimes: the client-disconnect policy depends on how the runtime's HTTP
// server reports a client that went away (Node: @hono/node-server aborts Request.signal when the socket
// closes before the response finished; Deno: Request.signal under --unstable-no-legacy-abort). The
// gateways run in a Node (tsx) or Deno child process, the demo backend here, so its counters are exact.
// For each upstream protocol: "continue" lets every abandoned call complete at the backend, none
// cancelled; "cancel" makes the backend see every one cancelled (gRPC RST_STREAM; TTHeader pingpong closes
// the connection), except TTHeader mux, which has no cancel frame: there the backend finishes them.
// And the demo story through each runtime's real entry point (src/entry/<runtime>.ts, built-in demo):
// POST /v1/orders from a client that gives up after 100 ms, GET /v1/orders/{id} a second later finds
// it; then SIGTERM, and the process exits 0.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import { portFor, PROTOCOLS, startBackend, type ProtocolName } from "../helpers/fault-gateway.ts";
import { sleepMs, waitFor } from "../helpers/fault-load.ts";
import { jsonLine, OTHER_RUNTIMES, spawnRuntime, type RuntimeChild } from "../helpers/runtime-child.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

const N = 20;
const DELAY_MS = 800;
const ABORT_MS = 150;
const POLICIES = ["continue", "cancel"] as const;
type Policy = (typeof POLICIES)[number];
const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as ProtocolName[];

let backend: DemoBackend;
let dir: string;
beforeAll(async () => {
  backend = await startBackend();
  dir = mkdtempSync(join(tmpdir(), "sluice-disconnect-rt-"));
});
afterAll(() => {
  backend.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** One gateway per (protocol, policy), in this order. */
const combos = PROTOCOL_NAMES.flatMap((protocol) => POLICIES.map((policy) => ({ protocol, policy })));

function configFor(protocol: ProtocolName, policy: Policy) {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    // Pingpong: one connection per call in flight, opened before the test so every call is on the wire
    // well before its client gives up.
    upstreams: [{ name: "demo", ...PROTOCOLS[protocol], endpoints: [`127.0.0.1:${portFor(backend, protocol)}`], pool: { maxConnections: 4 * N }, warmup: protocol === "ttheader-pool" ? N : 1, breaker: false }],
    services: [{ match: "*", upstream: "demo" }],
    routes: [{ method: "demo.v1.EchoService/Echo", onClientDisconnect: policy, timeout: "10s" }],
    logging: { level: "error", accessLog: false },
  };
}

/** Fires n calls that the client aborts after abortAfterMs; resolves with how many gave up. */
async function abandon(url: string, tag: string, n: number): Promise<number> {
  let aborted = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        const res = await fetch(`${url}/demo.v1.EchoService/Echo`, {
          method: "POST",
          body: JSON.stringify({ text: `${tag}${i}`, delayMs: DELAY_MS }),
          headers: { "content-type": "application/json" },
          signal: AbortSignal.timeout(ABORT_MS),
        });
        await res.text();
      } catch {
        aborted++;
      }
    }),
  );
  return aborted;
}

interface InvokerStats {
  calls: number;
  finishedAfterClientLeft: number;
  cancelledByClient: number;
}

for (const rt of OTHER_RUNTIMES) {
  describe(`${rt}: ${N} calls abandoned after ${ABORT_MS} ms (backend takes ${DELAY_MS} ms)`, () => {
    let child: RuntimeChild;
    let urls: string[];
    const stats = async (): Promise<InvokerStats[]> => {
      const since = child.lines.length;
      child.send("stats");
      return child.waitForLine((l) => jsonLine(l)?.stats as InvokerStats[] | undefined, 10_000, since);
    };

    beforeAll(async () => {
      const file = join(dir, `${rt}.json`);
      writeFileSync(file, JSON.stringify(combos.map((c) => configFor(c.protocol, c.policy))));
      child = spawnRuntime(rt, "test/helpers/runtime-gateways-child.ts", [file]);
      const ready = await child.waitForLine((l) => (jsonLine(l)?.ready ? jsonLine(l) : undefined), 60_000);
      expect(ready!.runtime).toBe(rt);
      urls = ready!.urls;
      // One completed call per gateway first: the route and codecs are warm before anyone gives up.
      for (const u of urls) {
        const res = await fetch(`${u}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "warm" }) });
        expect(res.status).toBe(200);
        await res.text();
      }
    }, 90_000);
    afterAll(async () => {
      child.proc.stdin!.end(); // the child stops its gateways and exits
      await Promise.race([child.exited, sleepMs(5_000)]);
      child.kill();
    });

    for (const [i, { protocol, policy }] of combos.entries()) {
      const mux = protocol === "ttheader-mux";
      const what =
        policy === "continue"
          ? "continue: the backend completes every call, cancels none"
          : mux
            ? "cancel: the gateway gives up (counted), the backend still finishes (TTHeader mux has no cancel frame)"
            : "cancel: the backend sees every call cancelled";
      test(`${protocol}, ${what}`, async () => {
        const before = { completed: backend.stats.echoCompleted, cancelled: backend.stats.echoCancelled, rst: backend.stats.grpc.cancelled };
        const tag = `${rt}-${protocol}-${policy}-`;
        const aborted = await abandon(urls[i]!, tag, N);
        expect(aborted).toBe(N);
        // Every call ends at the backend one way or the other (completed or cancelled), within its delay plus slack.
        await waitFor(() => backend.stats.echoCompleted + backend.stats.echoCancelled - before.completed - before.cancelled >= N, 10_000);
        await sleepMs(DELAY_MS + 200); // a cancelled call must not complete late
        const completed = backend.stats.echoCompleted - before.completed;
        const cancelled = backend.stats.echoCancelled - before.cancelled;
        const inv = await waitFor(async () => {
          const s = (await stats())[i]!;
          return s.finishedAfterClientLeft + s.cancelledByClient >= N ? s : undefined;
        }, 10_000, 100);
        console.log(`disconnect/${rt}/${protocol}/${policy}: ${aborted} clients gave up; backend completed ${completed}, cancelled ${cancelled}; invoker ${JSON.stringify(inv)}`);
        expect(inv).toBeDefined();
        if (policy === "continue" || mux) {
          expect(completed).toBe(N);
          expect(cancelled).toBe(0);
          if (protocol === "grpc") expect(backend.stats.grpc.cancelled - before.rst).toBe(0);
        } else {
          expect(cancelled).toBe(N);
          expect(completed).toBe(0);
          if (protocol === "grpc") expect(backend.stats.grpc.cancelled - before.rst).toBe(N);
        }
        if (policy === "continue") expect(inv).toMatchObject({ finishedAfterClientLeft: N, cancelledByClient: 0 });
        else expect(inv).toMatchObject({ finishedAfterClientLeft: 0, cancelledByClient: N });
      }, 40_000);
    }
  });

  describe(`${rt}: the demo's POST /v1/orders story through src/entry/${rt}.ts`, () => {
    let child: RuntimeChild | undefined;
    afterAll(() => child?.kill());

    test("a client gives up after 100 ms; GET /v1/orders/{id} a second later finds the order; SIGTERM exits 0", async () => {
      // No --config: the built-in demo (backend in the same process, PlaceOrder takes 300 ms).
      child = spawnRuntime(rt, `src/entry/${rt}.ts`, [], { PORT: "0", SLUICE_DEMO_ORDER_MS: "300", SLUICE_DEMO_PROTOCOL: "grpc" });
      const url = await child.waitForLine((l) => /^sluice listening on (\S+)/.exec(l)?.[1], 60_000);
      const order = { client_order_id: `phone-${rt}`, symbol: "BTCUSDT", side: "BUY", quantity: "0.5", price: "64000" };
      let gaveUp = false;
      try {
        const res = await fetch(`${url}/v1/orders`, { method: "POST", body: JSON.stringify(order), headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(100) });
        await res.text();
      } catch {
        gaveUp = true;
      }
      expect(gaveUp).toBe(true);
      await sleepMs(1_000);
      const res = await fetch(`${url}/v1/orders/phone-${rt}`);
      const body = (await res.json()) as Record<string, unknown>;
      console.log(`orders story/${rt}: 1 s after the client gave up, GET -> ${res.status} ${JSON.stringify(body)}`);
      expect(res.status).toBe(200);
      expect(body).toMatchObject({ clientOrderId: `phone-${rt}`, symbol: "BTCUSDT", side: "BUY", status: "ACCEPTED" });
      // The gateway logged the call that finished after its client left.
      await child.waitForLine((l) => (jsonLine(l)?.msg === "call finished after client left" ? true : undefined), 5_000);

      child.proc.kill("SIGTERM");
      const code = await Promise.race([child.exited, sleepMs(20_000).then(() => "timeout" as const)]);
      expect(code).toBe(0);
    }, 90_000);
  });
}
