// Where the gateway's time goes, per request. Starts the demo backend and the gateway under the
// runtime's sampling CPU profiler, loads it with wrk, then sorts the samples into buckets (route,
// body, transcoding, h2 client, ...) and prints each bucket's share and µs per request.
// Usage: bun bench/profile.ts [--runtime bun|node] [-d 10s] [-c 64] [--interval 250] [--keep DIR] [--base-port 50180]
//                             [--upstream grpc|ttheader-mux] [--no-access-log]
//        bun bench/profile.ts --analyze file.cpuprofile [--requests N --cpu-s S]
// The µs column scales the shares by the gateway's measured CPU time per request.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { SMALL_ECHO } from "./rows.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/**
 * The innermost frame that matches a rule names the bucket (walking from the sampled leaf to the root).
 * Generic plumbing (streams, events, net, library code like protobuf-es) decides nothing: the walk goes
 * on to the frame that called it, so e.g. node:net under node:http2 is "h2 client" and under the Node
 * HTTP server is "HTTP server".
 */
type Rule = [bucket: string, test: (f: CallFrame) => boolean];
const inUrl = (s: string) => (f: CallFrame) => f.url.includes(s);
const rules: Rule[] = [
  ["transcode: fromJson + toBinary", (f) => f.url.endsWith("src/transcode/json-codec.ts") && f.functionName === "encode"],
  ["transcode: fromBinary + toJson", (f) => f.url.endsWith("src/transcode/json-codec.ts") && f.functionName === "decode"],
  ["route lookup + bind (http-rule)", inUrl("src/transcode/http-rule/")],
  ["body read + JSON.parse (http/body.ts)", inUrl("src/http/body.ts")],
  ["h2 client: node:http2 (runtime)", (f) => /node:http2|internal\/http2/.test(f.url) || f.url.endsWith("src/runtime/shared/node-http2.ts")],
  ["gRPC call/connection (upstream/grpc, protocol/grpc)", (f) => f.url.includes("src/upstream/grpc/") || f.url.includes("src/protocol/grpc/")],
  ["pool + upstream group + invoker", (f) => f.url.endsWith("src/upstream/pool.ts") || f.url.includes("src/rpc/")],
  ["observability (access log, redaction, metrics, tracing)", (f) => f.url.includes("src/observability/") || f.url.includes("src/http/telemetry/")],
  ["http middleware (auth, header policy, compression, in-flight)", (f) => /src\/http\/(auth|middleware)\/|src\/http\/(header-policy|compression|in-flight|metered-body|edge-[a-z-]+)\.ts/.test(f.url)],
  ["resilience policies (src/resilience)", (f) => f.url.includes("src/resilience/")],
  ["hono", (f) => f.url.includes("node_modules/hono/")],
  ["HTTP server (runtime JS: node:http, @hono/node-server, Deno serve)", (f) => /@hono\/node-server|node:_http|internal\/http[^2]|_http_|ext:deno_http|ext:deno_fetch/.test(f.url)],
  ["runtime serve adapter (src/runtime)", (f) => f.url.includes("src/runtime/")],
  ["handler glue (app.ts, rpc-handler.ts, gateway.ts)", (f) => f.url.includes("src/http/") || f.url.endsWith("src/gateway.ts")],
];

function analyze(p: CpuProfile): { total: number; buckets: [string, number][]; leaves: Map<string, Map<string, number>> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const leaves = new Map<string, Map<string, number>>();
  const bucketOf = (id: number): string => {
    const cached = memo.get(id);
    if (cached) return cached;
    let b: string | undefined;
    const leaf = byId.get(id)!.callFrame;
    for (let cur: number | undefined = id; cur !== undefined && !b; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      for (const [name, test] of rules) if (test(f)) { b = name; break; }
    }
    if (!b) {
      const named = leaf.functionName && leaf.functionName !== "(root)" && leaf.functionName !== "(program)" && leaf.functionName !== "(anonymous)";
      b =
        leaf.functionName === "(garbage collector)"
          ? "GC"
          : /^onRS|ReadableStream|readableStream/.test(leaf.functionName)
            ? "web ReadableStream machinery (e.g. a request body read with getReader)"
            : named
            ? "other JS/native outside our code (incl. start-up)"
            : "runtime internals, native (event loop, Bun's HTTP server, microtasks)";
    }
    memo.set(id, b);
    return b;
  };
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of p.samples) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") continue;
    total++;
    const b = bucketOf(id);
    counts.set(b, (counts.get(b) ?? 0) + 1);
    const leafName = `${f.functionName || "(anonymous)"} ${f.url ? f.url.replace(/^.*\/(node_modules|src)\//, "$1/") : "[native]"}${f.lineNumber >= 0 && f.url ? `:${f.lineNumber + 1}` : ""}`;
    const m = leaves.get(b) ?? new Map<string, number>();
    m.set(leafName, (m.get(leafName) ?? 0) + 1);
    leaves.set(b, m);
  }
  return { total, buckets: [...counts].sort((a, b) => b[1] - a[1]), leaves };
}

function print(p: CpuProfile, requests?: number, cpuS?: number): void {
  const { total, buckets, leaves } = analyze(p);
  const usPerReq = requests && cpuS ? (cpuS * 1e6) / requests : undefined;
  console.log(`${total} samples${usPerReq ? `; gateway CPU ${usPerReq.toFixed(1)} µs/request (under the profiler)` : ""}`);
  for (const [b, n] of buckets) {
    const share = n / total;
    console.log(`${(share * 100).toFixed(1).padStart(6)} %  ${usPerReq ? `${(share * usPerReq).toFixed(1).padStart(6)} µs  ` : ""}${b}`);
    const top = [...leaves.get(b)!].sort((a, c) => c[1] - a[1]).slice(0, 4);
    for (const [leaf, c] of top) console.log(`            ${((c / total) * 100).toFixed(1).padStart(5)} %  ${leaf}`);
  }
}

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function waitFor(child: ChildProcess, re: RegExp, name: string): Promise<void> {
  let out = "";
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} not ready:\n${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (re.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", on);
    child.once("exit", (c) => reject(new Error(`${name} exited ${c}:\n${out}`)));
  });
}

function waitForFile(child: ChildProcess, path: string, re: RegExp, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const text = () => {
      try {
        return readFileSync(path, "utf8").slice(0, 64 * 1024);
      } catch {
        return "";
      }
    };
    const poll = setInterval(() => {
      if (re.test(text())) {
        clearInterval(poll);
        child.removeAllListeners("exit");
        resolve();
      } else if (Date.now() - started > 30_000) {
        clearInterval(poll);
        reject(new Error(`${name} not ready:\n${text()}`));
      }
    }, 50);
    child.once("exit", (c) => {
      clearInterval(poll);
      reject(new Error(`${name} exited ${c}:\n${text()}`));
    });
  });
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    c.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const file = arg(args, "--analyze", "");
  if (file) {
    const req = arg(args, "--requests", "");
    const cpu = arg(args, "--cpu-s", "");
    print(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, req ? Number(req) : undefined, cpu ? Number(cpu) : undefined);
    return;
  }
  const runtime = arg(args, "--runtime", "bun");
  const duration = arg(args, "-d", "10s");
  const conns = arg(args, "-c", "64");
  const interval = arg(args, "--interval", "250");
  const keep = arg(args, "--keep", "");
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep || mkdtempSync(join(tmpdir(), "sluice-profile-"));
  const upstream = arg(args, "--upstream", "grpc");
  if (upstream !== "grpc" && upstream !== "ttheader-mux") throw new Error("--upstream grpc|ttheader-mux");
  const accessLog = !args.includes("--no-access-log");
  // Ports apart from bench/run.ts's (50150-50161), so both can run at once.
  const basePort = Number(arg(args, "--base-port", "50180"));
  const backendPort = basePort; // its TTHeader server, where there is one, takes basePort + 1
  const gwPort = basePort + 11;
  const base = parseYaml(readFileSync("bench/sluice.yaml", "utf8")) as { upstreams: Record<string, unknown>[] } & Record<string, unknown>;
  const cfg = {
    ...base,
    listen: { host: "127.0.0.1", port: gwPort },
    upstreams: base.upstreams.map((u) =>
      upstream === "grpc" ? { ...u, endpoints: [`127.0.0.1:${backendPort}`] } : { ...u, protocol: "ttheader", mode: "mux", endpoints: [`127.0.0.1:${backendPort + 1}`] },
    ),
    ...(accessLog ? {} : { logging: { accessLog: false } }),
  };
  const cfgPath = join(dir, "config.yaml");
  writeFileSync(cfgPath, toYaml(cfg));

  const backend = spawn("node_modules/.bin/bun", ["bench/backend.ts", String(backendPort)], { stdio: ["ignore", "pipe", "pipe"] });
  await waitFor(backend, /listening on/, "backend");
  const gwCmd =
    runtime === "node"
      ? ["node", `--cpu-prof`, `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${interval}`, "--import", "tsx", "src/entry/node.ts"]
      : ["node_modules/.bin/bun", "--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${interval}`, "src/entry/bun.ts"];
  // The gateway's output (an access log line per request) goes to a file, as in bench/run.ts: through a
  // pipe, every line would also cost a reader wake-up on the same CPUs and inflate the logging share.
  const outPath = join(dir, "gateway-output.log");
  const outFd = openSync(outPath, "w");
  const gw = spawn(gwCmd[0]!, [...gwCmd.slice(1), "--config", cfgPath], { stdio: ["ignore", outFd, outFd] });
  closeSync(outFd);
  try {
    await waitForFile(gw, outPath, /listening on/, "gateway");
    const url = `http://127.0.0.1:${gwPort}/v1/echo`;
    const env = { BENCH_BODY: SMALL_ECHO };
    await run("wrk", ["-t2", `-c${conns}`, "-d2s", "-s", "bench/post.lua", url], env);
    const c0 = cpuSeconds(gw.pid!);
    const out = await run("wrk", ["-t2", `-c${conns}`, `-d${duration}`, "-s", "bench/post.lua", url], env);
    const c1 = cpuSeconds(gw.pid!);
    const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "))!;
    const r = JSON.parse(line.slice(13)) as { requests: number; duration_us: number };
    console.log(`${runtime}, ${upstream}, access log ${accessLog ? "on" : "off"}: ${Math.round(r.requests / (r.duration_us / 1e6))} req/s under the profiler (interval ${interval} µs)`);
    const exited = new Promise((res) => gw.once("exit", res));
    gw.kill("SIGINT");
    await exited;
    const prof = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!prof) throw new Error(`no .cpuprofile in ${dir}`);
    console.log(`profile: ${join(dir, prof)}`);
    // The profile spans warm-up and measurement; the µs scale comes from the measured phase only.
    print(JSON.parse(readFileSync(join(dir, prof), "utf8")) as CpuProfile, r.requests, c1 - c0);
  } finally {
    gw.kill("SIGKILL");
    backend.kill("SIGTERM");
  }
}

await main();
