// Draining in-process: not ready but still serving (with Connection: close), stop() waiting for
// requests in flight, and the shutdown timeout cutting what does not finish in time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway } from "../../src/gateway.ts";
import { detectRuntime, type Runtime } from "../../src/runtime/index.ts";
import { DESCRIPTORS, quietLogger } from "../helpers/stack.ts";

let rt: Runtime;
let backend: DemoBackend;

beforeAll(async () => {
  rt = await detectRuntime();
  backend = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS });
});
afterAll(() => backend.kill());

async function gateway(lines: string[] = []) {
  return startGateway({
    runtime: rt,
    logger: quietLogger((l) => lines.push(l)),
    config: parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [DESCRIPTORS],
      upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
      services: [{ match: "*", upstream: "demo" }],
    }),
  });
}

/** One raw HTTP/1.1 request on its own connection; reports whether the server closed it after answering. */
function rawPost(url: string, path: string, body: string): Promise<{ head: string; closedByServer: boolean }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    let buf = "";
    const sock = connect(Number(port), "127.0.0.1", () => {
      sock.write(`POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ head: buf, closedByServer: false });
    }, 1000);
    sock.on("data", (d) => (buf += d));
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ head: buf, closedByServer: true });
    });
  });
}

const echo = (url: string, delayMs: number) => fetch(`${url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "t", delayMs }) });

describe("draining", () => {
  test("not ready, still serving; responses ask clients to reconnect elsewhere", async () => {
    const gw = await gateway();
    try {
      const before = await rawPost(gw.url, "/demo.v1.EchoService/Echo", "{}");
      expect(before.closedByServer).toBe(false);
      gw.markDraining();
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      const during = await rawPost(gw.url, "/demo.v1.EchoService/Echo", '{"text":"x"}');
      expect(during.head).toStartWith("HTTP/1.1 200");
      expect(during.head.toLowerCase()).toContain("connection: close");
      expect(during.closedByServer).toBe(true);
    } finally {
      await gw.stop({ timeoutMs: 1000 });
    }
  });

  test("stop() waits for requests in flight, then closes upstream connections", async () => {
    const lines: string[] = [];
    const gw = await gateway(lines);
    const slow = echo(gw.url, 400);
    await new Promise((r) => setTimeout(r, 50));
    expect(gw.inFlight).toBe(1);
    await gw.stop({ timeoutMs: 5000 });
    const res = await slow;
    expect(res.status).toBe(200);
    expect(gw.inFlight).toBe(0);
    const pools = gw.groups.get("demo")!.stats().endpoints;
    expect(pools.every((p) => p.connections.ready === 0)).toBe(true);
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.msg === "gateway stopped")).toMatchObject({ clean: true });
  });

  test("the shutdown timeout cuts a request that does not finish in time", async () => {
    const lines: string[] = [];
    const gw = await gateway(lines);
    const slow = echo(gw.url, 3000).then((r) => r.status, () => "cut");
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await gw.stop({ timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await slow).toBe("cut");
    const logs = lines.map((l) => JSON.parse(l));
    expect(logs.find((l) => l.msg === "shutdown timeout: cutting the requests still in flight")).toMatchObject({ level: "warn", in_flight: 1 });
    expect(logs.find((l) => l.msg === "gateway stopped")).toMatchObject({ clean: false });
  });
});
