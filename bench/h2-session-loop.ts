// One HTTP/2 client session alone (no gRPC layer above it): the demo backend's Echo as a raw stream
// (request headers, one prebuilt gRPC envelope, wait for the stream to close), `c` in flight.
// Compares the runtime's node:http2 client with ours (src/protocol/h2) on the same backend.
// Usage: bun bench/h2-session-loop.ts --port 50150 --h2 runtime|sluice [-c 64] [-d 10] [--warmup 3]
// Prints `BENCH_RESULT {json}` like bench/post.lua does.
import { h2SessionFactory } from "../src/compose/index.ts";
import { parseDuration } from "../src/core/index.ts";
import { demoDescriptorPath } from "../src/demo/demo-backend.ts";
import { encodeEnvelope } from "../src/protocol/grpc/index.ts";
import { detectRuntime } from "../src/runtime/index.ts";
import { createJsonCodec, registryFromDescriptorSets } from "../src/transcode/index.ts";
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
const h2 = arg(args, "--h2", "runtime") as "runtime" | "sluice";

const registry = registryFromDescriptorSets([await rt.readFile(demoDescriptorPath())]);
const encoded = createJsonCodec(registry).encode(registry.getMessage("demo.v1.EchoRequest")!, JSON.parse(SMALL_ECHO));
if (!encoded.ok) throw encoded.error;
const envelope = encodeEnvelope(encoded.value);

let settings!: () => void;
const gotSettings = new Promise<void>((r) => (settings = r));
const session = h2SessionFactory({ http2Client: h2, tls: undefined }, rt)({
  authority: `http://127.0.0.1:${port}`,
  connectTimeoutMs: 3000,
  events: { goaway() {}, close() {}, remoteSettings: () => settings() },
});
await session.ready;
await gotSettings;
const headers = {
  ":method": "POST", ":scheme": "http", ":authority": `127.0.0.1:${port}`, ":path": "/demo.v1.EchoService/Echo",
  "content-type": "application/grpc+proto", te: "trailers", "user-agent": "sluice-bench",
};

function call(): Promise<boolean> {
  return new Promise((resolve) => {
    const st = session.request(headers, { endStream: false });
    let ok = false;
    st.on("trailers", (h) => (ok = h["grpc-status"] === "0"));
    st.on("data", () => {});
    st.on("error", () => {});
    st.on("close", () => resolve(ok));
    st.end(envelope);
  });
}

async function phase(seconds: number): Promise<{ latencies: number[]; errors: number; elapsedMs: number }> {
  const stopAt = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      if (await call()) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, elapsedMs: performance.now() - start };
}

await phase(warmup);
const cpu0 = process.cpuUsage();
const r = await phase(duration);
const cpu = process.cpuUsage(cpu0);
const sorted = r.latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 1000);
console.log(
  `BENCH_RESULT ${JSON.stringify({
    requests: sorted.length,
    duration_us: Math.round(r.elapsedMs * 1000),
    p50_us: pct(50),
    p90_us: pct(90),
    p99_us: pct(99),
    max_us: Math.round((sorted[sorted.length - 1] ?? 0) * 1000),
    mean_us: sorted.length ? (sorted.reduce((a, b) => a + b, 0) / sorted.length) * 1000 : 0,
    errors: { other: r.errors },
    cpu_s: (cpu.user + cpu.system) / 1e6,
  })}`,
);
session.destroy();
rt.exit(0);
