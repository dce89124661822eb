// The gateway in its own process, for bench/connections/run.ts: config as JSON in argv[2].
// Prints {"ready":true,"url":...,"readyMs":...} (ms since this process started) once startGateway resolved
// (discovery answered, warm-up connections open). Exits when stdin closes.
import { createInterface } from "node:readline";
import { parseConfig } from "../../src/config/index.ts";
import { startGateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/observability/index.ts";
import { detectRuntime } from "../../src/runtime/index.ts";

const gw = await startGateway({ config: parseConfig(JSON.parse(process.argv[2]!)), runtime: await detectRuntime(), logger: createLogger({ level: "error", sink: () => {} }) });
process.stdout.write(`${JSON.stringify({ ready: true, url: gw.url, readyMs: Math.round(performance.now()) })}\n`);
createInterface({ input: process.stdin }).on("close", () => {
  void gw.stop().finally(() => process.exit(0));
});
