// Issue 4: "/readyz can wait for warm-up". The gateway listens before its warm-up connections are open (so
// probes get an answer), and /readyz says 503 until they are, then 200. Connections are slow to establish
// here (a relay admitting one new connection per 250 ms), so warm-up of 3 takes a while; /readyz is polled
// from the moment the port answers until startGateway resolves.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { adminUpstream, startBackend, startFaultGateway } from "../helpers/fault-gateway.ts";
import { startRelay, type Relay } from "../helpers/fault-relay.ts";

let backend: DemoBackend;
let relay: Relay;
let gw: Gateway | undefined;
beforeAll(async () => {
  backend = await startBackend();
  relay = await startRelay({ targets: [{ host: "127.0.0.1", port: backend.grpcPort }], establishMs: 250, serial: true });
});
afterAll(async () => {
  await gw?.stop();
  await relay.close();
  backend.kill();
});

/** A port nobody listens on right now (the gateway needs a known port to be probed while it starts). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("/readyz: 503 while warm-up connections are being opened, 200 once they are", async () => {
  const port = await freePort();
  let started = false;
  const starting = startFaultGateway({ upstream: { name: "demo", endpoints: [relay.address], warmup: 3, connectTimeout: "5s" }, listenPort: port }).then((g) => {
    started = true;
    gw = g;
    return g;
  });
  const seen: number[] = [];
  const deadline = Date.now() + 15_000;
  while (!started && Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (!started) seen.push(res.status);
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const g = await starting;
  const notReady = seen.filter((s) => s === 503).length;
  console.log(`readyz during warm-up: ${notReady} x 503, ${seen.length - notReady} other; relay established ${relay.stats.established}`);
  // "Not ready" while warm-up ran (it takes >= 750 ms here, so there were some), then only "ready": a 200 may
  // slip in between the flag flipping and startGateway resolving, never before a 503.
  expect(notReady).toBeGreaterThan(0);
  const firstOk = seen.indexOf(200);
  expect(seen.slice(0, firstOk === -1 ? seen.length : firstOk).every((s) => s === 503)).toBe(true);
  expect(firstOk === -1 || seen.slice(firstOk).every((s) => s === 200)).toBe(true);
  expect((await fetch(`${g.url}/readyz`)).status).toBe(200);
  expect((await adminUpstream(g, "demo")).endpoints[0]!.connections).toMatchObject({ ready: 3, connecting: 0 });
}, 30_000);
