// Stream errors name their upstream like unary errors do: the NDJSON error line, the SSE error event
// and the error body of a stream that failed before its first message all carry "upstream".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startDemoStack, type Stack } from "../helpers/stack.ts";

let s: Stack;
beforeAll(async () => {
  s = await startDemoStack();
});
afterAll(async () => {
  await s.stop();
});

const stream = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify(body), headers, signal: AbortSignal.timeout(10_000) });

describe("stream error records name the upstream", () => {
  test("unary errors do (the reference)", async () => {
    const res = await fetch(`${s.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "fail:internal" }) });
    expect(res.status).toBe(500);
    expect((await res.json()).upstream).toBe("demo");
  });

  test("NDJSON: the final error line", async () => {
    const res = await stream({ text: "fail:midstream", n: 5 });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(3);
    expect(lines[2].error).toMatchObject({ code: "ABORTED", upstream: "demo" });
  });

  test("SSE: the error event", async () => {
    const text = await (await stream({ text: "fail:midstream", n: 5 }, { accept: "text/event-stream" })).text();
    const err = text.split("\n\n").find((e) => e.startsWith("event: error\n"));
    expect(err).toBeDefined();
    expect(JSON.parse(err!.slice(err!.indexOf("data: ") + 6))).toMatchObject({ code: "ABORTED", upstream: "demo" });
  });

  test("before the first message: the error body", async () => {
    const res = await stream({ text: "slow", n: 3, delayMs: 2_000 }, { "x-sluice-timeout": "100ms" });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: "DEADLINE_EXCEEDED", upstream: "demo" });
  });
});
