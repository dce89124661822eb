// A server stream whose client goes away: cancelled upstream by default (even when the global default
// for unary calls is "continue"), but run to its end and drained when the route itself says
// onClientDisconnect: continue, and then counted as finished after the client left.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { demoConfig } from "../../src/demo/demo-config.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { DESCRIPTORS, quietLogger } from "../helpers/stack.ts";
import { parsePrometheus } from "../helpers/prometheus.ts";
import { sleepMs, startCountingBackend, type CountingBackend } from "./streaming-kit.ts";

const N = 12;
const METHOD = "demo.v1.EchoService/EchoStream";
let backend: CountingBackend;
let shielded: Gateway;
let plain: Gateway;

beforeAll(async () => {
  const rt = await detectRuntime();
  backend = await startCountingBackend();
  const base = demoConfig({ port: 0, host: "127.0.0.1", descriptorPath: DESCRIPTORS, backendPort: backend.port, protocol: "grpc" });
  shielded = await startGateway({
    runtime: rt,
    logger: quietLogger(),
    config: parseConfig({ ...base, routes: [...(base.routes ?? []), { method: "demo.v1.EchoService/EchoStream", onClientDisconnect: "continue" }] }),
  });
  // The global default (for unary calls) says continue; streams still cancel without a route of their own.
  plain = await startGateway({ runtime: rt, logger: quietLogger(), config: parseConfig({ ...base, defaults: { onClientDisconnect: "continue" } }) });
});
afterAll(async () => {
  await shielded?.stop();
  await plain?.stop();
  backend?.stop();
});

/** Starts a stream of N messages 40 ms apart, reads 2 lines, then goes away. */
async function readTwoAndLeave(gw: Gateway, text: string): Promise<void> {
  const ctl = new AbortController();
  const res = await fetch(`${gw.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ text, n: N, delayMs: 40 }), signal: ctl.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let got = 0;
  while (got < 2) {
    const { value, done } = await reader.read();
    if (done) break;
    got += new TextDecoder().decode(value).split("\n").length - 1;
  }
  expect(got).toBeGreaterThanOrEqual(2);
  ctl.abort();
  await reader.cancel().catch(() => {});
}

const afterLeft = (gw: Gateway) => parsePrometheus(gw.metrics.render()).sum("sluice_calls_finished_after_client_left_total", { method: METHOD, outcome: "ok" });

describe("streams and onClientDisconnect", () => {
  test("route says continue: the backend produces all N messages and the stream counts as finished after the client left", async () => {
    const text = `keep-${crypto.randomUUID()}`;
    const before = afterLeft(shielded);
    const statsBefore = shielded.invoker.stats.finishedAfterClientLeft;
    await readTwoAndLeave(shielded, text);
    const produced = () => backend.stats.producedBy.get(text) ?? 0;
    for (let i = 0; i < 250 && (produced() < N || afterLeft(shielded) <= before); i++) await sleepMs(20);
    expect(produced()).toBe(N);
    expect(backend.stats.abortedTexts).not.toContain(text);
    expect(afterLeft(shielded)).toBeGreaterThan(before);
    expect(shielded.invoker.stats.finishedAfterClientLeft).toBeGreaterThan(statsBefore);
  }, 15_000);

  test("no route of its own: the upstream stream is cancelled when the client leaves", async () => {
    const text = `stop-${crypto.randomUUID()}`;
    await readTwoAndLeave(plain, text);
    for (let i = 0; i < 250 && !backend.stats.abortedTexts.includes(text); i++) await sleepMs(20);
    expect(backend.stats.abortedTexts).toContain(text);
    const produced = backend.stats.producedBy.get(text) ?? 0;
    await sleepMs(200);
    expect(backend.stats.producedBy.get(text) ?? 0).toBe(produced);
    expect(produced).toBeLessThan(N);
  }, 15_000);
});
