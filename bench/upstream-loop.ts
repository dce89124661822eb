// The upstream path alone: one of our gRPC connections (src/upstream/grpc) calling the demo backend's
// Echo with `c` calls in flight, no HTTP server and no JSON. Tells whether the upstream client is what
// limits the gateway. Usage: bun bench/upstream-loop.ts --port 50150 [-c 64] [-d 10] [--warmup 3] [--conns 1]
//   [--h2 runtime|sluice]  (the HTTP/2 client under the connection: node:http2, or ours in src/protocol/h2)
// Prints `BENCH_RESULT {json}` like bench/post.lua does.
import { h2SessionFactory } from "../src/compose/index.ts";
import { parseDuration, type MethodRef } from "../src/core/index.ts";
import { demoDescriptorPath } from "../src/demo/demo-backend.ts";
import { detectRuntime } from "../src/runtime/index.ts";
import { createJsonCodec, registryFromDescriptorSets } from "../src/transcode/index.ts";
import { createGrpcConnection, type Connection } from "../src/upstream/index.ts";
import { SMALL_ECHO } from "./rows.ts";

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

const seconds = (s: string) => (parseDuration(/^\d+(\.\d+)?$/.test(s) ? `${s}s` : s) ?? 10_000) / 1000;

const rt = await detectRuntime();
const args = rt.args();
const port = Number(arg(args, "--port", "50150"));
const concurrency = Number(arg(args, "-c", "64"));
const duration = seconds(arg(args, "-d", "10"));
const warmup = seconds(arg(args, "--warmup", "3"));
const connCount = Number(arg(args, "--conns", "1"));
const h2 = arg(args, "--h2", "runtime") as "runtime" | "sluice";
const openH2Session = h2SessionFactory({ http2Client: h2, tls: undefined }, rt);

const registry = registryFromDescriptorSets([await rt.readFile(demoDescriptorPath())]);
const codec = createJsonCodec(registry);
const input = registry.getMessage("demo.v1.EchoRequest")!;
const encoded = codec.encode(input, JSON.parse(SMALL_ECHO));
if (!encoded.ok) throw encoded.error;
const request = encoded.value;
const method: MethodRef = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };

const conns: Connection[] = [];
for (let i = 0; i < connCount; i++) {
  const c = createGrpcConnection({ id: i + 1, address: { host: "127.0.0.1", port }, openH2Session, connectTimeoutMs: 3000, maxMessageBytes: 4 << 20 });
  await c.ready;
  conns.push(c);
}

async function phase(seconds: number): Promise<{ latencies: Float64Array; count: number; errors: number; elapsedMs: number }> {
  const stopAt = performance.now() + seconds * 1000;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < stopAt) {
      const conn = conns[next++ % conns.length]!;
      const t0 = performance.now();
      try {
        await conn.unary(request, { method, deadline: Date.now() + 5000 });
      } catch {
        errors++;
        continue;
      }
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies: latencies.subarray(0, count), count, errors, elapsedMs: performance.now() - start };
}

await phase(warmup);
const cpu0 = process.cpuUsage();
const r = await phase(duration);
const cpu = process.cpuUsage(cpu0);
const sorted = r.latencies.slice().sort();
const pct = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 1000);
let sum = 0;
for (const v of sorted) sum += v;
console.log(
  `BENCH_RESULT ${JSON.stringify({
    requests: r.count,
    duration_us: Math.round(r.elapsedMs * 1000),
    p50_us: pct(50),
    p90_us: pct(90),
    p99_us: pct(99),
    max_us: Math.round((sorted[sorted.length - 1] ?? 0) * 1000),
    mean_us: sorted.length ? (sum / sorted.length) * 1000 : 0,
    errors: { other: r.errors },
    cpu_s: (cpu.user + cpu.system) / 1e6,
  })}`,
);
for (const c of conns) c.destroy();
rt.exit(0);
