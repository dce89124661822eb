// Gateways served by another runtime (node through tsx, or deno), for tests that need that runtime's own
// HTTP server: how it reports a client that goes away (Request.signal) is runtime-specific.
// Usage: <runtime> test/helpers/runtime-gateways-child.ts <configs.json>   (a JSON array of ConfigInput)
// Prints one JSON line {"ready":true,"runtime":"node","urls":[...]} once every gateway listens.
// Commands on stdin, one per line: "stats" -> {"stats":[invoker stats per gateway]}. stdin closing
// (the test process is gone) stops the gateways and exits, so the child never outlives its test.
import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { createLogger } from "../../src/observability/index.ts";
import { detectRuntime } from "../../src/runtime/index.ts";

const configs = JSON.parse(readFileSync(process.argv[process.argv.length - 1]!, "utf8")) as ConfigInput[];
const rt = await detectRuntime();
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const gateways: Gateway[] = [];
for (const c of configs) {
  gateways.push(await startGateway({ config: parseConfig(c), runtime: rt, logger: createLogger({ level: "error", sink: () => {} }) }));
}

let closing = false;
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line.trim() === "stats") say({ stats: gateways.map((g) => g.invoker.stats) });
  })
  .on("close", () => {
    if (closing) return;
    closing = true;
    void Promise.all(gateways.map((g) => g.stop({ timeoutMs: 1000 }))).finally(() => process.exit(0));
  });
say({ ready: true, runtime: rt.name, urls: gateways.map((g) => g.url) });
