// SIGTERM while a client is half-way through sending a request body (headers and part of a
// Content-Length body, then nothing): the gateway must still exit 0 after its shutdown timeout, on
// every runtime, without an uncaught error. Regression: on Deno, the forced close after the graceful
// shutdown threw an uncaught "BadResource: Bad resource ID" from Deno.serve's abort listener and the
// process died with code 1 (src/runtime/deno/runtime.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { waitFor } from "../helpers/fault-load.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";
import { startGatewayProcess, type GatewayProcess, type RuntimeName } from "./streaming-kit.ts";

let backend: DemoBackend;

beforeAll(async () => {
  backend = await startDemoBackend({ runtime: await detectRuntime(), descriptorPath: DESCRIPTORS });
});

afterAll(() => {
  backend.kill();
});

async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^sluice_http_requests_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
}

for (const rt of ["deno", "node", "bun"] as RuntimeName[]) {
  describe(`SIGTERM with a half-received request body (${rt})`, () => {
    test(
      "exits 0 within the shutdown timeout, no uncaught error, the half request is never answered 500",
      async () => {
        const gw: GatewayProcess = await startGatewayProcess(backend.grpcPort, {
          runtime: rt,
          config: { logging: { level: "info", accessLog: false }, shutdown: { drainDelay: "0s", timeout: "1s" } },
        });
        const sock = new net.Socket();
        try {
          const base = await inFlight(gw.url);
          // Headers and 8 of 100 body bytes, then silence (the body read timeout, 30 s, is far away).
          let received = "";
          let clientClosed = false;
          sock.on("data", (d: Buffer) => (received += d.toString("latin1")));
          sock.on("error", () => {});
          sock.on("close", () => (clientClosed = true));
          await new Promise<void>((resolve, reject) => {
            sock.once("error", reject);
            sock.connect(gw.port, "127.0.0.1", () => resolve());
          });
          sock.write("POST /demo.v1.EchoService/Echo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":");
          expect(await waitFor(async () => (await inFlight(gw.url)) > base, 10_000, 50)).toBe(true);

          const t0 = Date.now();
          gw.signal("SIGTERM");
          const killer = setTimeout(() => gw.signal("SIGKILL"), 15_000);
          const { code, signal } = await gw.exited;
          clearTimeout(killer);
          const tookMs = Date.now() - t0;
          console.log(`${rt}: exit ${code} after ${tookMs} ms; the half request got ${received ? JSON.stringify(received.split("\r\n")[0]) : "no answer"}`);

          expect({ code, signal }).toEqual({ code: 0, signal: null });
          expect(gw.stderr()).not.toMatch(/uncaught|BadResource|Bad resource ID/i);
          expect(gw.stdout()).toContain('"gateway stopped"');
          // 1 s timeout, plus at most ~1 s waiting for connections to close, plus process teardown.
          expect(tookMs).toBeLessThan(10_000);
          // Cut or answered (Deno fails bodies still arriving when a graceful shutdown begins), never a 500.
          expect(received).not.toMatch(/^HTTP\/1\.1 5\d\d/);
          expect(await waitFor(() => clientClosed, 5_000)).toBe(true);
        } finally {
          sock.destroy();
          gw.signal("SIGKILL");
        }
      },
      60_000,
    );
  });
}
