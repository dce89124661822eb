// Issue 6, stream formats: the cases test/e2e/demo-annotated.test.ts checks for NDJSON and the JSON array
// only, here for SSE too, parsed event by event: an empty stream is an empty event stream; a mid-stream
// error is an `event: error` whose data is the documented error body (code, message, reason, request and
// trace ids), after the messages sent before it, and nothing follows it. The NDJSON error record carries
// the same ids.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startDemoStack, type Stack } from "../helpers/stack.ts";

let s: Stack;
beforeAll(async () => {
  s = await startDemoStack();
});
afterAll(async () => {
  await s.stop();
});

/** Parses an event stream into { event, data } records (WHATWG HTML "Server-sent events", data lines joined). */
function parseSse(text: string): { event: string; data: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      return { event, data: data.join("\n") };
    });
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const post = (body: unknown, headers: Record<string, string>) =>
  fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", "accept-encoding": "identity", ...headers } });

describe("SSE", () => {
  test("an empty stream: 200, text/event-stream, no events", async () => {
    const res = await post({ n: -1 }, { accept: "text/event-stream" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(parseSse(await res.text())).toEqual([]);
  });

  test("an error after two messages: two data events, then one error event with the error body, then the end", async () => {
    const res = await post({ text: "fail:midstream", n: 5 }, { accept: "text/event-stream", "x-request-id": "sse-err-1", traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events.map((e) => e.event)).toEqual(["message", "message", "error"]);
    expect(events.slice(0, 2).map((e) => JSON.parse(e.data).text)).toEqual(["fail:midstream0", "fail:midstream1"]);
    const err = JSON.parse(events[2]!.data);
    expect(err).toMatchObject({ code: "ABORTED", message: "demo failure mid-stream", request_id: "sse-err-1", trace_id: TRACE_ID, endpoint: `127.0.0.1:${s.backend.grpcPort}` });
    expect(typeof err.reason).toBe("string");
  });
});

describe("NDJSON", () => {
  test("the error record carries the request and trace ids", async () => {
    const res = await post({ text: "fail:midstream", n: 5 }, { "x-request-id": "nd-err-1", traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    const lines = (await res.text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[2].error).toMatchObject({ code: "ABORTED", request_id: "nd-err-1", trace_id: TRACE_ID });
  });
});
