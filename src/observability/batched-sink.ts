/**
 * The default log destination: lines written within one microtask checkpoint (e.g. the access lines
 * of all the replies one upstream read completed) go out as one text, one console.log, one write(2),
 * instead of one each (bench/README.md: the write was the largest part of the access log's cost).
 * The output is the same bytes in the same order. Lines wait at most until the current task's
 * microtasks have run, so code that awaits anything after logging (as every shutdown path does
 * before exiting) finds them written; the logger flushes warn and error lines at once.
 */
export interface BatchedSink {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes the queued lines now. */
  flush(): void;
}

export interface BatchedSinkOptions {
  /** Receives several lines joined by "\n", without a trailing newline (console.log adds it). */
  readonly out: (text: string) => void;
  /** `out` threw: that many lines are lost. Must not throw. */
  readonly onLost: (lines: number) => void;
  /** A batch this long is written at once, without waiting for the checkpoint. Default 64. */
  readonly maxLines?: number;
}

export function createBatchedSink(o: BatchedSinkOptions): BatchedSink {
  const maxLines = o.maxLines ?? 64;
  let text = "";
  let lines = 0;
  let scheduled = false;
  const flush = (): void => {
    if (lines === 0) return;
    const t = text;
    const n = lines;
    text = "";
    lines = 0;
    try {
      o.out(t);
    } catch {
      o.onLost(n);
    }
  };
  const onCheckpoint = (): void => {
    scheduled = false;
    flush();
  };
  return {
    write(line) {
      text = lines === 0 ? line : `${text}\n${line}`;
      lines++;
      if (lines >= maxLines) flush();
      else if (!scheduled) {
        scheduled = true;
        queueMicrotask(onCheckpoint);
      }
    },
    flush,
  };
}
