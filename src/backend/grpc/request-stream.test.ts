import { describe, expect, test } from "bun:test";
import { GatewayError, GrpcCode } from "../../core/index.ts";
import { RequestStream } from "./request-stream.ts";

function stream(settleMs: number) {
  let resumed = 0;
  const s = new RequestStream<string>({ highWater: 2, onResume: () => resumed++, settleMs });
  return { s, resumed: () => resumed };
}

async function code(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return GatewayError.is(e) ? e.code : -1;
  }
  return undefined;
}

describe("RequestStream", () => {
  test("messages, then the end once the settle time has passed", async () => {
    const { s } = stream(20);
    s.push("a");
    s.end();
    expect(await s.next()).toEqual({ value: "a", done: false });
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  test("a reset inside the settle window turns the end into CANCELLED", async () => {
    const { s } = stream(5000);
    s.push("a");
    s.end();
    const first = await s.next();
    const pending = s.next(); // waits: the end is held
    s.cancel();
    expect(first.value).toBe("a");
    expect(await code(pending)).toBe(GrpcCode.CANCELLED);
    expect(await code(s.next())).toBe(GrpcCode.CANCELLED);
  });

  test("after a reset, queued messages are not handed out: the next read throws", async () => {
    const { s } = stream(0);
    s.push("a");
    s.push("b");
    s.cancel();
    expect(await code(s.next())).toBe(GrpcCode.CANCELLED);
  });

  test("a reset after the end was delivered does not rewrite history; later reads throw", async () => {
    const { s } = stream(0);
    s.end();
    expect((await s.next()).done).toBe(true);
    s.cancel();
    expect(await code(s.next())).toBe(GrpcCode.CANCELLED);
  });

  test("back-pressure: push reports false at the high-water mark, onResume once drained", async () => {
    const { s, resumed } = stream(0);
    expect(s.push("a")).toBe(true);
    expect(s.push("b")).toBe(false);
    await s.next();
    await s.next();
    expect(resumed()).toBe(1);
  });
});
