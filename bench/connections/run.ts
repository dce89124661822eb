// Connection benchmarks (see README.md): cold start with and without warm-up, and throughput by
// connections per endpoint. Backend and gateway run in their own processes; the load comes from here.
//   npx bun bench/connections/run.ts            (both parts)
//   npx bun bench/connections/run.ts cold|throughput
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { burst, percentile, sleepMs, startLoad } from "../../test/helpers/fault-load.ts";
import { spawnBackend, type BackendProcess } from "../../test/helpers/fault-process.ts";
import { startRelay } from "../../test/helpers/fault-relay.ts";
import { DESCRIPTORS } from "../../test/helpers/stack.ts";

const CHILD = decodeURIComponent(new URL("./gateway-child.ts", import.meta.url).pathname);

interface GatewayProcess {
  url: string;
  readyMs: number;
  spawnedAt: number;
  stop(): Promise<void>;
}

async function spawnGateway(upstream: Record<string, unknown>, routes: unknown[] = []): Promise<GatewayProcess> {
  const config = { listen: { host: "127.0.0.1", port: 0 }, descriptors: [DESCRIPTORS], upstreams: [{ name: "demo", ...upstream }], services: [{ match: "*", upstream: "demo" }], routes };
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const ready = await new Promise<{ url: string; readyMs: number }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("gateway did not start in 20 s")), 20_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const m = JSON.parse(line);
        if (m.ready) {
          clearTimeout(t);
          resolve(m);
        }
      } catch {
        /* not ours */
      }
    });
  });
  return {
    url: ready.url,
    readyMs: performance.now() - spawnedAt,
    spawnedAt,
    stop: async () => {
      child.stdin!.end();
      await Promise.race([exited, sleepMs(3_000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

async function pool(url: string): Promise<{ opened: number; connectFailures: number }> {
  const body = (await (await fetch(`${url}/admin/upstreams`)).json()) as { upstreams: { endpoints: { opened: number; connectFailures: number }[] }[] };
  const ep = body.upstreams[0]!.endpoints;
  return { opened: ep.reduce((a, e) => a + e.opened, 0), connectFailures: ep.reduce((a, e) => a + e.connectFailures, 0) };
}

const echo = (url: string) => `${url}/demo.v1.EchoService/Echo`;

const median = (xs: number[]) => percentile(xs, 50);
const TRIALS = 3;

/** Part 1: process start -> burst served, with and without warm-up (median of TRIALS runs). */
async function cold(backend: BackendProcess): Promise<void> {
  const N = 1_000;
  const C = 60;
  console.log(`\n## Cold start: gateway process start -> burst of ${N} calls (${C} at a time) served (median of ${TRIALS})\n`);
  console.log("pool.maxConcurrentPerConnection 10 (the burst needs 6 connections), connectTimeout 250 ms.\n");
  console.log("| network | warm-up | ready after | first reply after | burst done after | burst p99 | dials | connect failures | failed calls |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const slow of [false, true]) {
    // Slow: new connections established one at a time, 60 ms each (a slow accept loop / handshake).
    const relay = slow ? await startRelay({ targets: [{ host: "127.0.0.1", port: backend.port }], establishMs: 60, serial: true }) : undefined;
    for (const warmup of [0, 6]) {
      const rows: { ready: number; first: number; done: number; p99: number; dials: number; cf: number; failed: number }[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const endpoint = relay ? relay.address : `127.0.0.1:${backend.port}`;
        const gw = await spawnGateway({ endpoints: [endpoint], connectTimeout: "250ms", warmup, breaker: false, pool: { maxConcurrentPerConnection: 10 } });
        const t = performance.now();
        const r = await burst({ url: echo(gw.url), body: (i) => ({ text: `b${i}` }), n: N, concurrency: C });
        const done = performance.now() - gw.spawnedAt;
        const firstOk = Math.min(...r.outcomes.filter((o) => o.status === 200).map((o) => o.ms)) + (t - gw.spawnedAt);
        const p = await pool(gw.url);
        rows.push({ ready: gw.readyMs, first: firstOk, done, p99: percentile(r.outcomes.map((o) => o.ms), 99), dials: p.opened, cf: p.connectFailures, failed: r.failed });
        await gw.stop();
      }
      const m = (f: (x: (typeof rows)[number]) => number) => Math.round(median(rows.map(f)));
      console.log(
        `| ${slow ? "slow connects (60 ms each, one at a time)" : "loopback"} | ${warmup || "none"} | ${m((x) => x.ready)} ms | ${m((x) => x.first)} ms | ${m((x) => x.done)} ms | ` +
          `${m((x) => x.p99)} ms | ${m((x) => x.dials)} | ${m((x) => x.cf)} | ${m((x) => x.failed)} |`,
      );
    }
    await relay?.close();
  }
}

/** Part 2: throughput by connections per endpoint, gRPC and TTHeader mux (median of TRIALS runs). */
async function throughput(backend: BackendProcess): Promise<void> {
  const C = 64;
  const SECONDS = 2;
  console.log(`\n## Throughput by connections per endpoint (${C} concurrent clients, ${SECONDS} s, small Echo, median of ${TRIALS})\n`);
  console.log("| protocol | connections per endpoint | calls/s | p50 | p99 | failed |");
  console.log("|---|---|---|---|---|---|");
  for (const protocol of ["grpc", "ttheader-mux"] as const) {
    for (const n of [1, 2, 4, 8]) {
      const upstream =
        protocol === "grpc"
          ? { protocol: "grpc", endpoints: [`127.0.0.1:${backend.port}`], warmup: n, pool: { minConnections: n, maxConnections: n } }
          : { protocol: "ttheader", mode: "mux", endpoints: [`127.0.0.1:${backend.ttheaderPort}`], muxConnections: n };
      const rows: { rps: number; p50: number; p99: number; failed: number; opened: number }[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const gw = await spawnGateway(upstream);
        await burst({ url: echo(gw.url), body: () => ({ text: "warm" }), n: 1_000, concurrency: C }); // JIT and connections warm
        const load = startLoad({ url: echo(gw.url), body: (i) => ({ text: `t${i}` }), concurrency: C });
        await sleepMs(SECONDS * 1_000);
        const r = await load.stop();
        const ms = r.outcomes.map((o) => o.ms);
        rows.push({ rps: r.ok / SECONDS, p50: percentile(ms, 50), p99: percentile(ms, 99), failed: r.failed, opened: (await pool(gw.url)).opened });
        await gw.stop();
      }
      const m = (f: (x: (typeof rows)[number]) => number) => median(rows.map(f));
      console.log(`| ${protocol} | ${n} (${m((x) => x.opened)} opened) | ${Math.round(m((x) => x.rps))} | ${m((x) => x.p50).toFixed(1)} ms | ${m((x) => x.p99).toFixed(1)} ms | ${m((x) => x.failed)} |`);
    }
  }
}

const part = process.argv[2];
const backend = await spawnBackend();
try {
  console.log(`bench/connections on ${process.platform} ${process.arch}, runtime ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : process.version}; backend, gateway and load generator in separate processes`);
  if (!part || part === "cold") await cold(backend);
  if (!part || part === "throughput") await throughput(backend);
} finally {
  await backend.kill();
}
process.exit(0);
