// Benchmark runner: starts each row's servers, warms up, runs wrk (or the row's own script), and prints
// a table with requests/s, p50/p99 latency, CPU use of the process under test, and the ratio to the ceiling.
// Usage (from the repo root): bun bench/run.ts [-c 64] [-d 10s] [-t 2] [--warmup 3s] [--rows a,b] [--all]
//                             [--repeat N] [--json out.json] [--list] [--base-port 50150] [--before DIR]
// --before DIR: each gateway row also runs from another checkout (its script, e.g. a `git archive`
// of the commit to compare with) as "<row>@before", right after the row itself: before/after in one run.
// --repeat N runs the whole set N times (interleaved) and reports medians: the machine is noisy.
// Ports: backend gRPC = base (TTHeader base + 1), hello = base + 10, gateway = base + 11.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { rows, servers, type GatewayConfig, type Ports, type Row, type ServerSpec } from "./rows.ts";

interface Options {
  connections: number;
  duration: string;
  threads: number;
  warmup: string;
  rows: string[] | undefined;
  all: boolean;
  json: string | undefined;
  list: boolean;
  basePort: number;
  repeat: number;
  before: string | undefined;
}

interface Result {
  row: string;
  what: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  cpuPct?: number;
  /** CPU µs per request in the process under test. */
  cpuUsPerReq?: number;
  backendCpuPct?: number;
  ratio?: number;
  /** Lowest and highest req/s over the runs (with --repeat). */
  rpsRange?: [number, number];
  error?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { connections: 64, duration: "10s", threads: 2, warmup: "3s", rows: undefined, all: false, json: undefined, list: false, basePort: 50150, repeat: 1, before: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === "-c" || a === "--connections") o.connections = Number(v());
    else if (a === "-d" || a === "--duration") o.duration = v();
    else if (a === "-t" || a === "--threads") o.threads = Number(v());
    else if (a === "-w" || a === "--warmup") o.warmup = v();
    else if (a === "--rows") o.rows = v().split(",").filter(Boolean);
    else if (a === "--all") o.all = true;
    else if (a === "--json") o.json = v();
    else if (a === "--list") o.list = true;
    else if (a === "--base-port") o.basePort = Number(v());
    else if (a === "--repeat" || a === "-r") o.repeat = Math.max(1, Number(v()));
    else if (a === "--before") o.before = v();
    else if (a === "-h" || a === "--help") {
      console.log(readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(0, 5).join("\n"));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const seconds = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new Error(`bad duration ${s}`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n / 1000 : m[2] === "m" ? n * 60 : n;
};

// ---- processes -------------------------------------------------------------------------------

interface Running {
  name: string;
  child: ChildProcess;
  /** What the server has printed so far. */
  output: () => string;
  cleanup?: () => void;
}

/** Every server started and not yet stopped, and the load generator running, so an interrupted run leaves nothing behind. */
const live = new Set<Running>();
const loaders = new Set<ChildProcess>();

function substitute(cmd: readonly string[], p: Ports): string[] {
  return cmd.map((c) => c.replace("{backend}", String(p.backend)).replace("{hello}", String(p.hello)).replace("{gateway}", String(p.gateway)));
}

/**
 * Starts a server with its output going to a file (not a pipe: a gateway writing an access log line per
 * request would otherwise make this process read them all, on the same two CPUs), and waits for its ready line.
 */
function startServer(name: string, spec: ServerSpec, ports: Ports): Promise<Running> {
  const args = substitute(spec.cmd, ports);
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  if (spec.config) {
    const base = parseYaml(readFileSync("bench/sluice.yaml", "utf8")) as GatewayConfig;
    const path = join(dir, "config.yaml");
    writeFileSync(path, toYaml(spec.config(base, ports)));
    args.push("--config", path);
  }
  const logPath = join(dir, "output.log");
  const log = openSync(logPath, "w");
  const child = spawn(args[0]!, args.slice(1), { env: { ...process.env, ...spec.env }, stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  const output = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  const running: Running = { name, child, output, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  live.add(running);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const fail = (e: Error) => {
      clearInterval(poll);
      const text = output();
      void stopServer(running);
      reject(new Error(`${e.message}\n--- ${name} output:\n${text.slice(-4000)}`));
    };
    const poll = setInterval(() => {
      // Only the start of the output: the ready line comes before any access log.
      if (spec.ready.test(output().slice(0, 64 * 1024))) {
        clearInterval(poll);
        child.removeAllListeners("exit");
        resolve(running);
      } else if (Date.now() - started > 30_000) fail(new Error(`${name} did not become ready in 30 s`));
    }, 50);
    child.once("exit", (code) => fail(new Error(`${name} exited (code ${code}) before it was ready`)));
  });
}

function signalGroup(r: Running, sig: NodeJS.Signals): void {
  // The whole process group: tsx and npm-style wrappers start children of their own.
  try {
    if (r.child.pid) process.kill(-r.child.pid, sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM; resolves once the server has exited (SIGKILL after 5 s), so the next row can take the port. */
function stopServer(r: Running): Promise<void> {
  live.delete(r);
  r.child.removeAllListeners("exit");
  const exited =
    r.child.exitCode !== null || r.child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => signalGroup(r, "SIGKILL"), 5000);
          r.child.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        });
  signalGroup(r, "SIGTERM");
  r.cleanup?.();
  return exited;
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc (Linux only). */
function treeCpuSeconds(root: number): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after the ")" that ends the command name: state ppid ... utime(14) stime(15), 1-based overall.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const pid = Number(d);
    const ppid = Number(f[1]);
    cpu.set(pid, Number(f[11]) + Number(f[12]));
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    ticks += cpu.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

// ---- measuring -------------------------------------------------------------------------------

interface Raw {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  errors: Record<string, number>;
  /** CPU seconds of the process under test during the measured phase. */
  cpu_s?: number;
  /** CPU share (1 = one core) of the backend process while the row ran. */
  backend_cpu?: number;
}

function runCapture(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    loaders.add(child);
    child.once("exit", () => loaders.delete(child));
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out}`))));
  });
}

function parseResult(out: string): Raw {
  const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (!line) throw new Error(`no BENCH_RESULT in output:\n${out}`);
  return JSON.parse(line.slice("BENCH_RESULT ".length)) as Raw;
}

async function checkOnce(url: string, method: string, body: string | undefined): Promise<void> {
  const res = await fetch(url, { method, body, headers: body ? { "content-type": "application/json" } : {} });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
}

async function measure(row: Row, o: Options, ports: Ports, running: Map<string, Running>): Promise<Raw> {
  const backendPid = row.servers.includes("backend") ? running.get("backend")?.child.pid : undefined;
  if (row.kind === "script") {
    const [cmd, ...args] = row.cmd(ports);
    const b0 = backendPid ? treeCpuSeconds(backendPid) : undefined;
    const t0 = performance.now();
    const out = await runCapture(cmd!, [...args, "-c", String(o.connections), "-d", String(seconds(o.duration)), "--warmup", String(seconds(o.warmup))], {});
    const b1 = backendPid ? treeCpuSeconds(backendPid) : undefined;
    const raw = parseResult(out);
    // Includes the script's warm-up and start-up: an approximation.
    if (b0 !== undefined && b1 !== undefined) raw.backend_cpu = (b1 - b0) / ((performance.now() - t0) / 1000);
    return raw;
  }
  const url = row.url(ports);
  const method = row.method ?? "POST";
  await checkOnce(url, method, method === "POST" ? row.body : undefined);
  const env = { BENCH_BODY: row.body ?? "", BENCH_METHOD: method };
  const wrk = (d: string) => ["-t", String(o.threads), "-c", String(o.connections), "-d", d, "--timeout", "10s", "-s", "bench/post.lua", url];
  if (seconds(o.warmup) > 0) await runCapture("wrk", wrk(o.warmup), env);
  const pid = row.cpuOf ? running.get(row.cpuOf)?.child.pid : undefined;
  const cpu0 = pid ? treeCpuSeconds(pid) : undefined;
  const b0 = backendPid ? treeCpuSeconds(backendPid) : undefined;
  const raw = parseResult(await runCapture("wrk", wrk(o.duration), env));
  const cpu1 = pid ? treeCpuSeconds(pid) : undefined;
  const b1 = backendPid ? treeCpuSeconds(backendPid) : undefined;
  if (cpu0 !== undefined && cpu1 !== undefined) raw.cpu_s = cpu1 - cpu0;
  if (b0 !== undefined && b1 !== undefined) raw.backend_cpu = (b1 - b0) / (raw.duration_us / 1e6);
  return raw;
}

/** Several runs of one row -> the median of each figure (the machine is noisy), with the req/s range. */
function combine(list: Result[]): Result {
  const ok = list.filter((r) => !r.error);
  if (ok.length === 0) return list[0]!;
  const med = (f: (r: Result) => number | undefined): number | undefined => {
    const v = ok.map(f).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (v.length === 0) return undefined;
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : (v[m - 1]! + v[m]!) / 2;
  };
  const rps = ok.map((r) => r.rps);
  return {
    row: ok[0]!.row,
    what: ok[0]!.what,
    rps: med((r) => r.rps)!,
    p50Ms: med((r) => r.p50Ms)!,
    p99Ms: med((r) => r.p99Ms)!,
    errors: ok.reduce((a, r) => a + r.errors, 0),
    requests: ok.reduce((a, r) => a + r.requests, 0),
    cpuPct: med((r) => r.cpuPct),
    cpuUsPerReq: med((r) => r.cpuUsPerReq),
    backendCpuPct: med((r) => r.backendCpuPct),
    rpsRange: ok.length > 1 ? [Math.min(...rps), Math.max(...rps)] : undefined,
    error: ok.length < list.length ? `${list.length - ok.length} of ${list.length} runs failed: ${list.find((r) => r.error)!.error}` : undefined,
  };
}

// ---- main ------------------------------------------------------------------------------------

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** 1-minute load average (Linux), to tell a quiet machine from a busy one in the notes. */
function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
  } catch {
    return "?";
  }
}

function printTable(results: Result[], o: Options, load: [string, string]): void {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  const head = ["row", "req/s", "range", "p50 ms", "p99 ms", "errors", "CPU %", "CPU µs/req", "backend CPU %", "vs ceiling"];
  const lines = results.map((r) =>
    r.error && r.rps === 0
      ? [r.row, "failed", "", "", "", "", "", "", "", ""]
      : [
          r.row,
          Math.round(r.rps).toLocaleString("en-US"),
          r.rpsRange ? `${k(r.rpsRange[0])}-${k(r.rpsRange[1])}` : "",
          r.p50Ms.toFixed(2),
          r.p99Ms.toFixed(2),
          String(r.errors),
          r.cpuPct === undefined ? "" : r.cpuPct.toFixed(0),
          r.cpuUsPerReq === undefined ? "" : r.cpuUsPerReq.toFixed(1),
          r.backendCpuPct === undefined ? "" : r.backendCpuPct.toFixed(0),
          r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(1)} %`,
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => pad(c, widths[i]!, i > 0)).join(" | ")} |`;
  console.log(`\nwrk -t ${o.threads} -c ${o.connections} -d ${o.duration} (warm-up ${o.warmup})${o.repeat > 1 ? `, median of ${o.repeat} runs` : ""}, ${new Date().toISOString()}, load average ${load[0]} before, ${load[1]} after`);
  console.log(fmt(head));
  console.log(`|${widths.map((w, i) => (i > 0 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`);
  for (const l of lines) console.log(fmt(l));
  console.log("\nCPU % = CPU time of the process under test (with its children) / wall time; 100 % = one core.");
  console.log("CPU µs/req = that CPU time / requests: the cost of one request in that process. backend CPU % = the demo backend's.");
  console.log("On a shared machine, compare ratios and CPU µs/req; req/s moves with whatever else runs (see the load average).");
  for (const r of results) console.log(`  ${r.row}: ${r.what}${r.error ? `\n    FAILED: ${r.error.split("\n")[0]}` : ""}`);
}

/** Adds "<row>@before" after each gateway row: the same server started from the script (a .ts path) under `dir`. */
function withBefore(selected: Row[], dir: string): void {
  for (let i = selected.length - 1; i >= 0; i--) {
    const row = selected[i]!;
    const server = row.kind === "wrk" ? row.cpuOf : undefined;
    const spec = server ? servers[server] : undefined;
    if (row.kind !== "wrk" || !server?.startsWith("sluice") || !spec) continue;
    const name = `${server}@before`;
    servers[name] = { ...spec, cmd: spec.cmd.map((c) => (c.endsWith(".ts") ? join(dir, c) : c)) };
    selected.splice(i + 1, 0, { ...row, name: `${row.name}@before`, what: `${row.what} [from ${dir}]`, servers: row.servers.map((s) => (s === server ? name : s)), cpuOf: name });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) console.log(`${r.default ? "*" : " "} ${r.name.padEnd(w)}  ${r.what}`);
    console.log("* = run by default; others with --rows a,b or --all");
    return;
  }
  const wrkCheck = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (wrkCheck.error) throw new Error("wrk is not installed (apt-get install wrk)");
  if (o.rows) for (const n of o.rows) if (!rows.some((r) => r.name === n)) throw new Error(`no row ${n}; --list shows them`);
  const wanted = new Set(rows.filter((r) => (o.rows ? o.rows.includes(r.name) : o.all || r.default)).map((r) => r.name));
  // A row's ceiling runs too (first, in table order), so its ratio is always there.
  for (const r of rows) if (wanted.has(r.name) && r.ceiling) wanted.add(r.ceiling);
  const selected = rows.filter((r) => wanted.has(r.name));
  if (o.before) withBefore(selected, o.before);
  const ports: Ports = { backend: o.basePort, hello: o.basePort + 10, gateway: o.basePort + 11 };
  const shared = new Map<string, Running>();
  const results: Result[] = [];
  const stopAll = () => {
    for (const c of loaders) c.kill("SIGTERM");
    for (const r of [...live]) void stopServer(r);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      stopAll();
      process.exit(130);
    });
  }
  process.on("exit", stopAll);
  const runs = new Map<string, Result[]>(selected.map((r) => [r.name, []]));
  const loadBefore = loadAverage();
  try {
    for (let rep = 1; rep <= o.repeat; rep++) {
      for (const row of selected) {
        process.stdout.write(`${row.name}${o.repeat > 1 ? ` (run ${rep}/${o.repeat})` : ""}: `);
        const own = new Map<string, Running>();
        try {
          for (const s of row.servers) {
            const spec = servers[s];
            if (!spec) throw new Error(`row ${row.name} needs unknown server ${s}`);
            if (spec.shared) {
              if (!shared.has(s)) shared.set(s, await startServer(s, spec, ports));
            } else own.set(s, await startServer(s, spec, ports));
          }
          const raw = await measure(row, o, ports, new Map([...shared, ...own]));
          const cpu = raw.cpu_s;
          const errors = Object.values(raw.errors).reduce((a, b) => a + b, 0);
          const r: Result = {
            row: row.name,
            what: row.what,
            rps: raw.requests / (raw.duration_us / 1e6),
            p50Ms: raw.p50_us / 1000,
            p99Ms: raw.p99_us / 1000,
            errors,
            requests: raw.requests,
            cpuPct: cpu === undefined ? undefined : (cpu / (raw.duration_us / 1e6)) * 100,
            cpuUsPerReq: cpu === undefined || raw.requests === 0 ? undefined : (cpu * 1e6) / raw.requests,
            backendCpuPct: raw.backend_cpu === undefined ? undefined : raw.backend_cpu * 100,
          };
          runs.get(row.name)!.push(r);
          console.log(`${Math.round(r.rps)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${errors ? `, ${errors} errors` : ""}`);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          runs.get(row.name)!.push({ row: row.name, what: row.what, rps: 0, p50Ms: 0, p99Ms: 0, errors: 0, requests: 0, error: msg });
          console.log(`FAILED\n${msg}`);
        } finally {
          await Promise.all([...own.values()].map(stopServer));
          // Let the port and the CPU settle before the next row.
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  } finally {
    for (const c of loaders) c.kill("SIGTERM");
    await Promise.all([...live].map(stopServer));
  }
  for (const row of selected) results.push(combine(runs.get(row.name)!));
  for (const row of selected) {
    const r = results.find((x) => x.row === row.name)!;
    const ceiling = row.ceiling ? results.find((x) => x.row === row.ceiling && x.rps > 0) : undefined;
    if (ceiling && r.rps > 0) r.ratio = r.rps / ceiling.rps;
  }
  printTable(results, o, [loadBefore, loadAverage()]);
  if (o.json) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), options: o, results, runs: Object.fromEntries(runs) }, null, 2));
  if (results.some((r) => r.error)) process.exitCode = 1;
}

await main();
