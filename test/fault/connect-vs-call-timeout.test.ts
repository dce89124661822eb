// Issue 5: "could not connect" must never look like "the backend was slow". Three upstream failures,
// each through a real gateway on loopback, each with its own status, reason and a message naming the
// address the gateway tried:
// - connect timeout (a relay that accepts TCP but reaches the backend only after 3 s, so no HTTP/2
//   SETTINGS arrive within connectTimeout 200 ms): 503 upstream_connect_timeout;
// - connection refused (nobody listens), over gRPC and both TTHeader modes: 503 upstream_connect_failed;
// - a backend slower than the call's deadline: 504 upstream_deadline_exceeded.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import type { DemoBackend } from "../../src/demo/demo-backend.ts";
import type { Gateway } from "../../src/gateway.ts";
import { portFor, PROTOCOLS, startBackend, startFaultGateway, type ProtocolName, type UpstreamInput } from "../helpers/fault-gateway.ts";
import { call } from "../helpers/fault-load.ts";
import { startRelay, type Relay } from "../helpers/fault-relay.ts";

let backend: DemoBackend;
let relay: Relay;
let deadPort: number;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  backend = await startBackend();
  relay = await startRelay({ targets: [{ host: "127.0.0.1", port: backend.grpcPort }], establishMs: 3_000 });
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  deadPort = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
});
afterAll(async () => {
  for (const c of cleanup) await c();
  await relay.close();
  backend.kill();
});

async function gateway(upstream: Partial<UpstreamInput> & { endpoints: string[] }, timeout = "5s"): Promise<Gateway> {
  const gw = await startFaultGateway({
    upstream: { name: "demo", connectTimeout: "200ms", breaker: false, outlier: false, ...upstream },
    routes: [{ method: "demo.v1.EchoService/Echo", timeout }],
  });
  cleanup.push(() => gw.stop({ timeoutMs: 1000 }));
  return gw;
}

interface ErrorBody {
  code: string;
  reason: string;
  message: string;
  upstream?: string;
  endpoint?: string;
}

describe("connect failures and slow backends are told apart", () => {
  test("connect timeout: 503 upstream_connect_timeout naming the address, long before the 5 s call deadline", async () => {
    const gw = await gateway({ endpoints: [relay.address] });
    const r = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "x" });
    const body = r.body as ErrorBody;
    console.log(`connect timeout: ${r.status} ${JSON.stringify(body)} after ${Math.round(r.ms)} ms`);
    expect(r.status).toBe(503);
    expect(body).toMatchObject({ code: "UNAVAILABLE", reason: "upstream_connect_timeout", upstream: "demo", endpoint: relay.address });
    expect(body.message).toContain(relay.address);
    expect(body.message).toContain("200 ms");
    expect(r.ms).toBeLessThan(4_000); // the connect timeout answered, not the call deadline
  }, 15_000);

  for (const protocol of Object.keys(PROTOCOLS) as ProtocolName[]) {
    test(`${protocol}: connection refused: 503 upstream_connect_failed naming the address`, async () => {
      const address = `127.0.0.1:${deadPort}`;
      const gw = await gateway({ ...PROTOCOLS[protocol], endpoints: [address] });
      const r = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "x" });
      const body = r.body as ErrorBody;
      console.log(`refused/${protocol}: ${r.status} ${JSON.stringify(body)}`);
      expect(r.status).toBe(503);
      expect(body).toMatchObject({ code: "UNAVAILABLE", reason: "upstream_connect_failed", upstream: "demo", endpoint: address });
      expect(body.message).toContain(address);
    }, 15_000);

    test(`${protocol}: a backend slower than the deadline: 504 upstream_deadline_exceeded naming the endpoint`, async () => {
      const address = `127.0.0.1:${portFor(backend, protocol)}`;
      const gw = await gateway({ ...PROTOCOLS[protocol], endpoints: [address] }, "300ms");
      const r = await call(`${gw.url}/demo.v1.EchoService/Echo`, { text: "slow", delayMs: 2_000 });
      const body = r.body as ErrorBody;
      console.log(`slow/${protocol}: ${r.status} ${JSON.stringify(body)} after ${Math.round(r.ms)} ms`);
      expect(r.status).toBe(504);
      expect(body).toMatchObject({ code: "DEADLINE_EXCEEDED", reason: "upstream_deadline_exceeded", upstream: "demo" });
      expect(body.message).not.toContain("connect");
    }, 15_000);
  }
});
