// Spawning Sluice under Node (through tsx) or Deno from a bun test: the command line per runtime, and
// a child process whose stdout lines are collected and can be waited for.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export type OtherRuntime = "node" | "deno";
export const OTHER_RUNTIMES: readonly OtherRuntime[] = ["node", "deno"];

/** How each runtime runs a TypeScript file: the flags match package.json / deno.json. */
export function runtimeCommand(rt: OtherRuntime, script: string, args: readonly string[] = []): [string, string[]] {
  if (rt === "node") return ["node", ["--import", "tsx", script, ...args]];
  return [join(ROOT, "node_modules", ".bin", "deno"), ["run", "-A", "--unstable-no-legacy-abort", script, ...args]];
}

export interface RuntimeChild {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  /** The first stdout line (from index `since`) that pick() maps to a value; rejects after ms or on exit. */
  waitForLine<T>(pick: (line: string) => T | undefined, ms: number, since?: number): Promise<T>;
  send(line: string): void;
  /** SIGKILL if still running. */
  kill(): void;
}

export function spawnRuntime(rt: OtherRuntime, script: string, args: readonly string[] = [], env: Record<string, string> = {}): RuntimeChild {
  const [cmd, argv] = runtimeCommand(rt, script, args);
  const proc = spawn(cmd, argv, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
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
    for (const w of [...waiters]) w();
  });
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.on("exit", (code) => {
      exitCode = code;
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );
  return {
    proc,
    lines,
    exited,
    waitForLine: (pick, ms, since = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          for (const l of lines.slice(since)) {
            const v = pick(l);
            if (v !== undefined) {
              done();
              resolve(v);
              return;
            }
          }
          if (exitCode !== undefined) {
            done();
            reject(new Error(`${rt} exited (${exitCode}) first; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${rt}: no matching line within ${ms} ms; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    send: (line) => {
      proc.stdin!.write(`${line}\n`);
    },
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}

/** Parses a JSON line, or undefined. */
export function jsonLine(line: string): Record<string, any> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch {
    return undefined;
  }
}
