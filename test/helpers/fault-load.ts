// Load for fault tests: a constant number of clients calling the gateway over real HTTP, recording every
// outcome (status + reason) and latency, until stopped; plus one-shot bursts and percentiles.

export interface Outcome {
  readonly status: number;
  /** Error reason from the JSON error body (or "fetch_error"), undefined on success. */
  readonly reason?: string;
  readonly ms: number;
  readonly at: number;
  readonly body?: unknown;
}

export interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly outcomes: readonly Outcome[];
  /** "503 upstream_connect_timeout" -> count. */
  readonly failures: Record<string, number>;
}

export interface LoadOptions {
  readonly url: string;
  /** JSON body per request (the request's sequence number is given). */
  readonly body: (i: number) => unknown;
  readonly concurrency: number;
  readonly headers?: Record<string, string>;
  /** Client-side cap per request; an expired request counts as a failure. Default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Pause between a client's requests. Default 0. */
  readonly pauseMs?: number;
}

export async function call(url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<Outcome> {
  const t0 = performance.now();
  const at = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const reason = res.status === 200 ? undefined : ((json as { reason?: string })?.reason ?? "no_reason");
    return { status: res.status, reason, ms: performance.now() - t0, at, body: json };
  } catch (e) {
    return { status: 0, reason: e instanceof Error && e.name === "TimeoutError" ? "client_timeout" : "fetch_error", ms: performance.now() - t0, at };
  }
}

export function summarize(outcomes: readonly Outcome[]): LoadResult {
  const failures: Record<string, number> = {};
  let ok = 0;
  for (const o of outcomes) {
    if (o.status === 200) ok++;
    else {
      const k = `${o.status} ${o.reason}`;
      failures[k] = (failures[k] ?? 0) + 1;
    }
  }
  return { ok, failed: outcomes.length - ok, outcomes, failures };
}

/** Runs until stop(); stop waits for the requests in flight. */
export function startLoad(o: LoadOptions): { stop(): Promise<LoadResult>; snapshot(): LoadResult } {
  const outcomes: Outcome[] = [];
  let running = true;
  let seq = 0;
  const worker = async () => {
    while (running) {
      outcomes.push(await call(o.url, o.body(seq++), o.headers, o.requestTimeoutMs));
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const workers = Array.from({ length: o.concurrency }, worker);
  return {
    snapshot: () => summarize([...outcomes]),
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return summarize(outcomes);
    },
  };
}

/** n requests, at most `concurrency` at a time. */
export async function burst(o: Omit<LoadOptions, "pauseMs"> & { readonly n: number }): Promise<LoadResult> {
  const outcomes: Outcome[] = [];
  let seq = 0;
  const worker = async () => {
    while (seq < o.n) outcomes.push(await call(o.url, o.body(seq++), o.headers, o.requestTimeoutMs));
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.n) }, worker));
  return summarize(outcomes);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until fn() is truthy or the time is up; returns the last value. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= end) return v;
    await sleepMs(everyMs);
  }
}
