// Streams end the way they should: deadlines reach mid-stream (final error record), a client that
// goes away cancels the upstream stream, big messages stream intact, and every format frames the
// direct-writer output the same way.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isPattern, sleepMs, startCountingStack, type InProcessStack } from "./streaming-kit.ts";

let s: InProcessStack;
beforeAll(async () => {
  s = await startCountingStack();
});
afterAll(async () => {
  await s.stop();
});

const stream = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify(body), headers, signal });

describe("stream lifecycle", () => {
  test("the deadline ends a running stream with a DEADLINE_EXCEEDED record (NDJSON and SSE)", async () => {
    const res = await stream({ text: "d", n: 50, delayMs: 100 }, { "x-sluice-timeout": "450ms" });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last.error.code).toBe("DEADLINE_EXCEEDED");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThan(8);
    expect(lines.slice(0, -1).map((l) => l.text)).toEqual(lines.slice(0, -1).map((_, i) => "d"));
    const sse = await (await stream({ text: "d", n: 50, delayMs: 100 }, { "x-sluice-timeout": "350ms", accept: "text/event-stream" })).text();
    expect(sse).toMatch(/event: error\ndata: \{"code":"DEADLINE_EXCEEDED"/);
  });

  test("a deadline before the first message is an ordinary 504", async () => {
    const res = await stream({ n: 3, delayMs: 500 }, { "x-sluice-timeout": "100ms" });
    expect(res.status).toBe(504);
    expect((await res.json()).code).toBe("DEADLINE_EXCEEDED");
  });

  test("a client that goes away mid-stream cancels the upstream stream", async () => {
    // A text of its own: streams of earlier tests may still be winding down on the backend.
    const text = `gone-${crypto.randomUUID()}`;
    const cancelled = s.backend.grpc.stats.cancelled;
    const ctl = new AbortController();
    const res = await stream({ text, n: 100_000, delayMs: 5 }, {}, ctl.signal);
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 3) {
      const { value } = await reader.read();
      got += new TextDecoder().decode(value).split("\n").length - 1;
    }
    ctl.abort();
    await reader.cancel().catch(() => {});
    const abortedOurs = () => s.backend.stats.abortedTexts.filter((t) => t === text).length;
    for (let i = 0; i < 100 && abortedOurs() === 0; i++) await sleepMs(20);
    expect(abortedOurs()).toBe(1);
    expect(s.backend.grpc.stats.cancelled).toBeGreaterThan(cancelled);
    // And the backend stopped producing, long before the 100,000 messages asked for.
    const produced = s.backend.stats.producedBy.get(text) ?? 0;
    expect(produced).toBeGreaterThanOrEqual(3);
    await sleepMs(200);
    expect(s.backend.stats.producedBy.get(text)).toBe(produced);
  });

  test("messages of 100,000 bytes stream intact in every format", async () => {
    const body = { text: "b", n: 3, size: 100_000 };
    const nd = (await (await stream(body)).text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(nd.map((m) => isPattern(m.blob, 100_000))).toEqual([true, true, true]);
    expect(nd.map((m) => m.n ?? "0")).toEqual(["0", "1", "2"]);
    const sse = (await (await stream(body, { accept: "text/event-stream" })).text()).split("\n\n").filter(Boolean);
    expect(sse.map((e) => isPattern(JSON.parse(e.slice("data: ".length)).blob, 100_000))).toEqual([true, true, true]);
    const arr = await (await stream(body, { accept: "application/json" })).json();
    expect(arr.map((m: { blob: string }) => isPattern(m.blob, 100_000))).toEqual([true, true, true]);
  });

  test("a zero-valued first message is still a message: NDJSON {}, SSE data: {}, JSON array [{},...]", async () => {
    const body = { n: 2 }; // replies {text: "", n: 0} and {text: "", n: 1}: the first is all defaults
    const arr = await (await stream(body, { accept: "application/json" })).text();
    expect(arr).toBe('[{},{"n":"1"}]');
    const nd = await (await stream(body)).text();
    expect(nd).toBe('{}\n{"n":"1"}\n');
    const sse = await (await stream(body, { accept: "text/event-stream" })).text();
    expect(sse).toBe('data: {}\n\ndata: {"n":"1"}\n\n');
  });
});
