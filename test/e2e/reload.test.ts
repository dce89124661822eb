// Gateway.reload in-process: unchanged upstream groups (and their pooled connections) are kept,
// replaced and removed ones drain after the requests that use them, auth swaps with the config,
// a config that cannot be built is refused while the old one keeps serving, and no request fails.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { scrape } from "../helpers/prometheus.ts";
import { DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

let a: DemoBackend;
let b: DemoBackend;
let gw: Gateway;
const SECRET = "reload-test-secret-0123456789abcdef";

const v1 = (): ConfigInput => ({
  listen: { host: "127.0.0.1", port: 0 },
  descriptors: [DESCRIPTORS],
  upstreams: [
    { name: "echo", endpoints: [`127.0.0.1:${a.grpcPort}`] },
    { name: "market", endpoints: [`127.0.0.1:${a.grpcPort}`] },
    { name: "spare", endpoints: [`127.0.0.1:${a.grpcPort}`] },
  ],
  services: [
    { match: "demo.v1.*", upstream: "echo" },
    { match: "market.v1.*", upstream: "market" },
  ],
});

const echo = (delayMs = 0, headers: Record<string, string> = {}) => postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "hi", delayMs }, headers);
const order = (id: string) => postJson(`${gw.url}/v1/orders`, { client_order_id: id, symbol: "BTCUSDT", side: "BUY", quantity: "1", price: "1" });

beforeAll(async () => {
  const rt = await detectRuntime();
  a = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS, orderLatencyMs: 300 });
  b = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS, orderLatencyMs: 10 });
  gw = await startGateway({ config: parseConfig(v1()), runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  await gw.stop({ timeoutMs: 2000 });
  a.kill();
  b.kill();
});

describe("reload", () => {
  test("swaps upstreams and routes atomically without failing a request; unchanged groups keep their connections", async () => {
    expect((await echo()).status).toBe(200);
    expect((await order("before")).status).toBe(200);
    const echoGroup = gw.groups.get("echo")!;
    const marketGroup = gw.groups.get("market")!;
    const opened = () => echoGroup.stats().endpoints.reduce((n, p) => n + p.opened, 0);
    const openedBefore = opened();
    expect(openedBefore).toBe(1);

    // Load across the reload, plus calls that started on the old config and outlive it.
    let stop = false;
    const statuses: number[] = [];
    const workers = Array.from({ length: 4 }, async () => {
      while (!stop) statuses.push((await echo(5)).status);
    });
    const slowEcho = echo(400);
    const slowOrder = order("during-reload"); // 300 ms at backend a, through the group being replaced
    await new Promise((r) => setTimeout(r, 50));
    const bCallsBefore = b.stats.grpc.calls;

    const summary = await gw.reload(
      parseConfig({
        ...v1(),
        upstreams: [
          { name: "echo", endpoints: [`127.0.0.1:${a.grpcPort}`] },
          { name: "market", endpoints: [`127.0.0.1:${b.grpcPort}`] },
          { name: "extra", endpoints: [`127.0.0.1:${b.grpcPort}`] },
        ],
        routes: [{ method: "demo.v1.EchoService/Echo", timeout: "2s" }],
      }),
    );
    expect(summary).toEqual({ reused: ["echo"], added: ["extra"], replaced: ["market"], removed: ["spare"], restartNeeded: [] });
    expect(gw.groups.get("echo")).toBe(echoGroup);
    expect(gw.groups.get("market")).not.toBe(marketGroup);
    expect(gw.config.routes[0]!.timeout).toBe(2000);

    expect((await slowEcho).status).toBe(200);
    expect((await slowOrder).status).toBe(200);
    expect((await order("after")).status).toBe(200);
    expect(b.stats.grpc.calls).toBeGreaterThan(bCallsBefore);
    stop = true;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(opened()).toBe(openedBefore);

    // The replaced group drains once the old config's requests are done: its connection closes.
    const deadline = Date.now() + 3000;
    const live = () => marketGroup.stats().endpoints.reduce((n, p) => n + p.connections.ready + p.connections.draining, 0);
    while (live() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(live()).toBe(0);
  });

  test("auth swaps with the config", async () => {
    expect((await echo()).status).toBe(200);
    await gw.reload(parseConfig({ ...v1(), auth: { keys: [{ secret: SECRET }] } }));
    const denied = await echo();
    expect(denied.status).toBe(401);
    const token = await new SignJWT({ sub: "u" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
    expect((await echo(0, { authorization: `Bearer ${token}` })).status).toBe(200);
    await gw.reload(parseConfig(v1()));
    expect((await echo()).status).toBe(200);
  });

  test("a config that cannot be built is refused; the running one keeps serving", async () => {
    const before = gw.config;
    const bad = parseConfig({ ...v1(), descriptors: ["/nonexistent/descriptors.binpb"] });
    await expect(gw.reload(bad)).rejects.toThrow();
    const badKey = parseConfig({ ...v1(), auth: { keys: [{ kid: "short", secret: "too-short" }] } });
    await expect(gw.reload(badKey)).rejects.toThrow("at least 32 bytes");
    expect(gw.config).toBe(before);
    expect((await echo()).status).toBe(200);
    const m = await scrape(gw.url);
    expect(m.value("sluice_config_reloads_total", { result: "failure" })).toBe(2);
    expect(m.value("sluice_config_reloads_total", { result: "success" })).toBe(3);
  });

  test("listen changes are reported as needing a restart", async () => {
    const s = await gw.reload(parseConfig({ ...v1(), listen: { host: "127.0.0.1", port: 1 } }));
    expect(s.restartNeeded).toEqual(["listen"]);
    expect((await echo()).status).toBe(200);
  });
});
