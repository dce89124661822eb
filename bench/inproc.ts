// The gateway's own CPU per request, without sockets: the real gateway (config from bench/sluice.yaml,
// default logging, metrics, request scope, hono, transcoding, invoker, upstream group, pool) with the
// HTTP server replaced by direct app.fetch calls and the upstream connection by an in-process fake
// that answers each Echo with its request bytes (an EchoResponse has the same fields).
// Much steadier than wrk on a shared machine, and it isolates the JS we own from Bun's HTTP server and
// its node:http2 client. The access log goes to stdout: redirect it to a file as the server's would be.
// Usage: bun bench/inproc.ts [--n 200000] [-c 64] [--no-access-log] [--rounds 3] [--sink console|none] > /tmp/access.log
// --sink none: log lines are built but not written (the default logger otherwise).
import { parseConfig } from "../src/config/index.ts";
import { startGateway } from "../src/gateway.ts";
import { createLogger } from "../src/observability/index.ts";
import { detectRuntime, type Runtime, type ServeOptions } from "../src/runtime/index.ts";
import { parse as parseYaml } from "yaml";
import { fakeConnection } from "./fake-connection.ts";
import { SMALL_ECHO } from "./rows.ts";

const rt = await detectRuntime();
const args = rt.args();
const arg = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const N = Number(arg("--n", "200000"));
const C = Number(arg("-c", "64"));
const ROUNDS = Number(arg("--rounds", "3"));
const accessLog = !args.includes("--no-access-log");
const sink = arg("--sink", "console");

let fetchFn: ServeOptions["fetch"] | undefined;
const runtime: Runtime = {
  ...rt,
  serve: async (o) => {
    fetchFn = o.fetch;
    return { hostname: "127.0.0.1", port: 1, stop: async () => {} };
  },
};
const base = parseYaml(await rt.readTextFile("bench/sluice.yaml")) as Record<string, unknown>;
const config = parseConfig({ ...base, ...(accessLog ? {} : { logging: { accessLog: false } }) });
const logger = sink === "none" ? createLogger({ level: config.logging.level, sink: () => {} }) : undefined;
const gw = await startGateway({ config, runtime, ...(logger ? { logger } : {}), protocols: { grpc: () => (a, id) => fakeConnection(id, `${a.host}:${a.port}`) } });
const fetch = fetchFn!;
const url = "http://127.0.0.1:50161/v1/echo";
const headers = { "content-type": "application/json", "content-length": String(SMALL_ECHO.length), "user-agent": "wrk" };
const env = { remoteAddress: "127.0.0.1" };

async function one(): Promise<void> {
  const res = await fetch(new Request(url, { method: "POST", body: SMALL_ECHO, headers }), env);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

async function run(n: number): Promise<{ cpuUs: number; wallUs: number }> {
  let left = n;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const c = process.cpuUsage(c0);
  return { cpuUs: (c.user + c.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
}

// Baseline: building the Request and reading the Response alone (subtracted below).
async function baseline(n: number): Promise<number> {
  const body = new TextEncoder().encode(SMALL_ECHO);
  let left = n;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (left-- > 0) {
        const req = new Request(url, { method: "POST", body: SMALL_ECHO, headers });
        await req.arrayBuffer();
        await new Response(body, { headers: { "content-type": "application/json" } }).arrayBuffer();
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

await run(Math.min(N, 20000)); // warm-up (JIT)
const out: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const b = await baseline(Math.min(N, 50000));
  const m = await run(N);
  out.push(`round ${r + 1}: ${m.cpuUs.toFixed(2)} µs CPU/req (wall ${m.wallUs.toFixed(2)}), harness Request/Response ${b.toFixed(2)} -> gateway JS ≈ ${(m.cpuUs - b).toFixed(2)} µs/req`);
}
console.error(`inproc ${rt.name}, access log ${accessLog ? "on" : "off"}, sink ${sink}, n=${N}, c=${C}`);
for (const l of out) console.error(`  ${l}`);
await gw.stop({ timeoutMs: 1000 });
rt.exit(0);
