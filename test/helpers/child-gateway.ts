// The gateway as its own process (src/entry/bun.ts --config <file>), the way it runs in production.
// The bun binary is spawned directly (not through npx) so signals reach it and its exit code is ours.
import { spawn, type ChildProcess } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

export const ROOT = join(import.meta.dir, "..", "..");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");

export interface ChildGateway {
  readonly proc: ChildProcess;
  readonly url: string;
  /** stdout lines; JSON log lines parsed. */
  readonly lines: string[];
  readonly logs: () => Record<string, any>[];
  readonly exited: Promise<number | null>;
  /** How many log lines there are now (pass to waitForLog to wait only for later ones). */
  mark(): number;
  /** Resolves with the first log line from index `since` on that matches (or throws after ms). */
  waitForLog(pred: (l: Record<string, any>) => boolean, ms?: number, since?: number): Promise<Record<string, any>>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

/** Written to a temporary file and renamed over `path`, so a reader never sees half a file. */
export function writeYaml(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(value));
  renameSync(tmp, path);
  return Promise.resolve();
}

/** `argv`: what follows `bun` (default: src/entry/bun.ts --config <configPath>). */
export async function startChildGateway(configPath: string, argv: readonly string[] = ["src/entry/bun.ts", "--config", configPath], timeoutMs = 15_000): Promise<ChildGateway> {
  const proc = spawn(BUN, [...argv], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: "" } });
  const lines: string[] = [];
  let buf = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiters) w();
  });
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const logs = () => lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, any>);
  const waitFor = <T>(find: () => T | undefined, what: string, ms: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = find();
        if (v === undefined) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`));
      }, ms);
      if (!check()) waiters.add(check);
    });
  const url = await waitFor(() => lines.map((l) => /^sluice listening on (\S+)/.exec(l)?.[1]).find((u) => u !== undefined), "the gateway to listen", timeoutMs);
  return {
    proc,
    url,
    lines,
    logs,
    exited,
    mark: () => logs().length,
    waitForLog: (pred, ms = 5000, since = 0) => waitFor(() => logs().slice(since).find(pred), "a log line", ms),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}
