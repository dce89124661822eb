// sluice_circuit_breaker_state across hot reloads shows the running config's breakers only: a removed
// upstream's series goes, a replaced upstream's old breaker (tripped by a call that started before the
// reload and failed after it) does not overwrite the new one's state, and a refused reload leaves no
// series for an upstream that never went live.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { waitFor } from "../helpers/fault-load.ts";
import { scrape, type Exposition } from "../helpers/prometheus.ts";
import { DESCRIPTORS, postJson, quietLogger } from "../helpers/stack.ts";

let backend: DemoBackend;
let gw: Gateway;

// One failure trips a breaker (minSamples 1); the long cool-down keeps it open for the whole test.
const tripOnFirstFailure = { threshold: 0.5, minSamples: 1, window: "60s", cooldown: "5m" };
const v1 = (): ConfigInput => ({
  listen: { host: "127.0.0.1", port: 0 },
  descriptors: [DESCRIPTORS],
  upstreams: [
    { name: "echo", endpoints: [`127.0.0.1:${backend.grpcPort}`], breaker: tripOnFirstFailure, outlier: false },
    { name: "spare", endpoints: [`127.0.0.1:${backend.grpcPort}`] },
  ],
  services: [{ match: "*", upstream: "echo" }],
});
// "echo" changes (so a new group and breaker replace the old), "spare" is removed.
const v2 = (): ConfigInput => ({ ...v1(), upstreams: [{ name: "echo", endpoints: [`127.0.0.1:${backend.grpcPort}`], breaker: { ...tripOnFirstFailure, window: "59s" }, outlier: false }] });

const states = (m: Exposition, breaker: string) => Object.fromEntries(["closed", "open", "half_open"].map((s) => [s, m.value("sluice_circuit_breaker_state", { breaker, state: s })]));
const breakersShown = (m: Exposition) => [...new Set(m.samples.filter((s) => s.name === "sluice_circuit_breaker_state").map((s) => s.labels.breaker))].sort();

beforeAll(async () => {
  const rt = await detectRuntime();
  backend = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS });
  gw = await startGateway({ config: parseConfig(v1()), runtime: rt, logger: quietLogger() });
});

afterAll(async () => {
  await gw.stop({ timeoutMs: 5000 });
  backend.kill();
});

describe("circuit breaker gauge across reloads", () => {
  test("removed upstream's series goes; the replaced upstream's old breaker does not show", async () => {
    const before = await scrape(gw.url);
    expect(breakersShown(before)).toEqual(["echo", "spare"]);
    expect(states(before, "echo")).toEqual({ closed: 1, open: 0, half_open: 0 });

    // A call on the old "echo" group that fails only after the reload: it trips the old breaker.
    const oldGroup = gw.groups.get("echo")!;
    const slow = postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "fail:unavailable", delayMs: 1500 });
    const inFlight = () => oldGroup.stats().endpoints.reduce((n, p) => n + p.inFlight, 0);
    expect(await waitFor(() => inFlight() === 1, 10_000)).toBe(true);

    const summary = await gw.reload(parseConfig(v2()));
    expect(summary.replaced).toEqual(["echo"]);
    expect(summary.removed).toEqual(["spare"]);
    expect(gw.groups.get("echo")).not.toBe(oldGroup);
    expect((await slow).status).toBe(503);

    const after = await scrape(gw.url);
    expect(breakersShown(after)).toEqual(["echo"]);
    expect(states(after, "echo")).toEqual({ closed: 1, open: 0, half_open: 0 });
    // The new breaker still serves: a call goes through.
    expect((await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "ok" })).status).toBe(200);
  }, 30_000);

  test("the live breaker's own trip shows; a refused reload adds no series", async () => {
    expect((await postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text: "fail:unavailable" })).status).toBe(503);
    expect(states(await scrape(gw.url), "echo")).toEqual({ closed: 0, open: 1, half_open: 0 });

    // "extra" is built before the bad auth key makes the reload fail.
    const bad = parseConfig({
      ...v2(),
      upstreams: [...v2().upstreams, { name: "extra", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
      auth: { keys: [{ kid: "short", secret: "too-short" }] },
    });
    await expect(gw.reload(bad)).rejects.toThrow("at least 32 bytes");
    const m = await scrape(gw.url);
    expect(breakersShown(m)).toEqual(["echo"]);
    expect(m.value("sluice_config_reloads_total", { result: "failure" })).toBe(1);
  }, 30_000);
});
