import { describe, expect, test } from "bun:test";
import { createBatchedSink } from "./batched-sink.ts";
import { createLogger } from "./index.ts";

/** Replaces console.log for the duration of fn (the default logger's destination). */
async function withConsoleLog(fake: (...args: unknown[]) => void, fn: () => Promise<void>): Promise<void> {
  const original = console.log;
  console.log = fake;
  try {
    await fn();
  } finally {
    console.log = original;
  }
}

function collector(maxLines?: number) {
  const outs: string[] = [];
  let lost = 0;
  const sink = createBatchedSink({ out: (t) => void outs.push(t), onLost: (n) => void (lost += n), ...(maxLines !== undefined ? { maxLines } : {}) });
  return { sink, outs, lost: () => lost };
}

describe("batched log sink", () => {
  test("lines of one synchronous run go out together, in order, once the microtasks run", async () => {
    const c = collector();
    c.sink.write("a");
    c.sink.write('{"b":1}');
    c.sink.write("c");
    expect(c.outs).toEqual([]);
    await null;
    expect(c.outs).toEqual(['a\n{"b":1}\nc']);
    c.sink.write("d");
    await null;
    expect(c.outs).toEqual(['a\n{"b":1}\nc', "d"]);
  });

  test("a full batch is written at once; flush() writes what is queued", () => {
    const c = collector(3);
    for (const l of ["1", "2", "3", "4"]) c.sink.write(l);
    expect(c.outs).toEqual(["1\n2\n3"]);
    c.sink.flush();
    expect(c.outs).toEqual(["1\n2\n3", "4"]);
    c.sink.flush();
    expect(c.outs.length).toBe(2);
  });

  test("a throwing destination loses the batch, counted, without throwing anywhere", async () => {
    let lost = 0;
    const sink = createBatchedSink({
      out: () => {
        throw new Error("disk full");
      },
      onLost: (n) => void (lost += n),
    });
    sink.write("x");
    sink.write("y");
    await null;
    expect(lost).toBe(2);
    expect(() => {
      sink.write("z");
      sink.flush();
    }).not.toThrow();
    expect(lost).toBe(3);
  });

  test("the default logger: info lines batched into one console.log, a warning flushes them first", async () => {
    const calls: unknown[][] = [];
    await withConsoleLog((...args) => void calls.push(args), async () => {
      const log = createLogger({ clock: { now: () => 0 } });
      log.info("one", { n: 1 });
      log.info("two");
      expect(calls.length).toBe(0);
      await null;
      expect(calls.length).toBe(1);
      expect((calls[0]![0] as string).split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["one", "two"]);
      log.info("three");
      log.warn("careful");
      // Written before the caller goes on (it may exit next).
      expect(calls.length).toBe(2);
      expect((calls[1]![0] as string).split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["three", "careful"]);
      log.error("bad");
      expect(calls.length).toBe(3);
      await null;
      expect(calls.length).toBe(3);
    });
  });

  test("the default logger counts lines lost to a throwing console.log", async () => {
    const closed = () => {
      throw new Error("closed");
    };
    await withConsoleLog(closed, async () => {
      const log = createLogger();
      log.info("a");
      log.info("b");
      await null;
      expect(log.droppedLines).toBe(2);
      log.error("c");
      expect(log.droppedLines).toBe(3);
    });
  });
});
