/** Signals: deadlines and linking, without the caller's signal ever aborting more than it should. */

/** An AbortSignal that fires when any input fires. Returns a disposer that unlinks listeners. */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  const already = live.find((s) => s.aborted);
  if (already) {
    ctl.abort(already.reason);
    return { signal: ctl.signal, dispose: () => {} };
  }
  const onAbort = (ev: Event) => {
    ctl.abort((ev.target as AbortSignal).reason);
    dispose();
  };
  const dispose = () => {
    for (const s of live) s.removeEventListener("abort", onAbort);
  };
  for (const s of live) s.addEventListener("abort", onAbort, { once: true });
  return { signal: ctl.signal, dispose };
}

export function timeoutError(message = "deadline exceeded"): DOMException {
  return new DOMException(message, "TimeoutError");
}

/** A deadline: an absolute time plus a signal that fires at it. Cleared with dispose(). */
export interface Deadline {
  readonly at: number; // ms since epoch (Date.now clock)
  readonly signal: AbortSignal;
  remainingMs(): number;
  dispose(): void;
}

export function createDeadline(timeoutMs: number, now: () => number = Date.now): Deadline {
  const ctl = new AbortController();
  const at = now() + timeoutMs;
  const timer = setTimeout(() => ctl.abort(timeoutError()), Math.max(0, timeoutMs));
  (timer as { unref?: () => void }).unref?.();
  return {
    at,
    signal: ctl.signal,
    remainingMs: () => Math.max(0, at - now()),
    dispose: () => clearTimeout(timer),
  };
}

/** Resolves after ms, or rejects with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
