// Runs the demo backend in a child process (test/helpers/fault-backend-child.ts) so a test can stop it
// gracefully (SIGTERM: GOAWAY, in-flight calls finish) or kill it hard (SIGKILL: sockets reset by the kernel).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface BackendStats {
  echoCompleted: number;
  echoCancelled: number;
  ordersPlaced: number;
  ordersCancelled: number;
  grpc: { calls: number; cancelled: number; completed: number };
}

export interface BackendProcess {
  readonly host: string;
  /** gRPC port. */
  readonly port: number;
  /** TTHeader port (mux and pingpong). */
  readonly ttheaderPort: number;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stats(): Promise<BackendStats>;
  /** SIGTERM: graceful stop; resolves with the last stats once the process has exited. */
  stop(): Promise<BackendStats | undefined>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
}

const CHILD = decodeURIComponent(new URL("./fault-backend-child.ts", import.meta.url).pathname);
const live = new Set<ChildProcess>();

/** Kills every child still running (afterAll safety net). */
export function killAllBackends(): void {
  for (const c of live) c.kill("SIGKILL");
}

export async function spawnBackend(o: { host?: string; port?: number; ttheaderPort?: number; orderLatencyMs?: number; startTimeoutMs?: number } = {}): Promise<BackendProcess> {
  const host = o.host ?? "127.0.0.1";
  const child = spawn(process.execPath, [CHILD, "--host", host, "--port", String(o.port ?? 0), "--tt-port", String(o.ttheaderPort ?? 0), "--order-latency", String(o.orderLatencyMs ?? 50)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
    live.delete(child);
    resolve(code);
  }));
  const lines: ((o: Record<string, unknown>) => boolean)[] = [];
  let lastStats: BackendStats | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.stopped) lastStats = msg.stats as BackendStats;
    const i = lines.findIndex((f) => f(msg));
    if (i >= 0) lines.splice(i, 1);
  });
  const next = <T>(pick: (m: Record<string, unknown>) => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`backend ${host}: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      lines.push((m) => {
        const v = pick(m);
        if (v === undefined) return false;
        clearTimeout(t);
        resolve(v);
        return true;
      });
      void exited.then(() => reject(new Error(`backend ${host} exited before ${what}`)));
    });
  const ready = await next((m) => (m.ready ? (m as { port: number; ttheaderPort: number }) : undefined), o.startTimeoutMs ?? 10_000, "ready line");
  return {
    host,
    port: ready.port,
    ttheaderPort: ready.ttheaderPort,
    pid: child.pid!,
    exited,
    stats: () => {
      const p = next((m) => m.stats as BackendStats | undefined, 5_000, "stats");
      child.stdin!.write("stats\n");
      return p;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      return lastStats;
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
