// A demo backend in its own process, for fault tests that need a real process to stop or kill.
// Usage: bun test/helpers/fault-backend-child.ts --host 127.0.0.1 --port 0 --tt-port 0 [--order-latency 50]
// Serves gRPC on --port and TTHeader (mux and pingpong) on --tt-port.
// Prints one JSON line {"ready":true,"port":N,"ttheaderPort":M} when listening. Commands on stdin, one per line:
//   stats -> {"stats":{...}}        stop -> graceful stop (GOAWAY, in-flight calls finish), then exit 0
// SIGTERM is a graceful stop too (gRPC GOAWAY, TTHeader crrst); SIGKILL is what the hard-kill tests send.
import { createInterface } from "node:readline";
import { demoDescriptorPath, startDemoBackend } from "../../src/demo/demo-backend.ts";
import { detectRuntime } from "../../src/runtime/index.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const rt = await detectRuntime();
const backend = await startDemoBackend({
  runtime: rt,
  descriptorPath: demoDescriptorPath(),
  host: arg("host", "127.0.0.1"),
  grpcPort: Number(arg("port", "0")),
  ttheaderPort: Number(arg("tt-port", "0")),
  orderLatencyMs: Number(arg("order-latency", "50")),
});

const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await backend.stop();
  say({ stopped: true, stats: backend.stats });
  process.exit(0);
}

process.on("SIGTERM", () => void stop());
createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "stats") say({ stats: backend.stats });
  else if (cmd === "stop") void stop();
}).on("close", () => process.exit(0)); // parent gone: never outlive the test run
say({ ready: true, port: backend.grpcPort, ttheaderPort: backend.ttheaderPort });
