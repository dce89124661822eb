// The gateway on a real HTTP port (the runtime's own server, as in production), with every upstream
// call answered in-process by bench/fake-connection.ts: what a request costs the gateway apart from
// its upstream transport. Config as for the real entry (--config file); default logging applies.
// Usage: bun bench/fake-upstream-gateway.ts --config file.yaml
import { parseConfigText } from "../src/config/index.ts";
import { startGateway } from "../src/gateway.ts";
import { createLogger } from "../src/observability/index.ts";
import { detectRuntime } from "../src/runtime/index.ts";
import { fakeConnection } from "./fake-connection.ts";

const rt = await detectRuntime();
const args = rt.args();
const path = args[args.indexOf("--config") + 1];
if (!args.includes("--config") || path === undefined) throw new Error("usage: fake-upstream-gateway.ts --config file.yaml");
const config = parseConfigText(await rt.readTextFile(path), path);
const logger = createLogger({ level: config.logging.level });
const gw = await startGateway({ config, runtime: rt, logger, protocols: { grpc: () => (a, id) => fakeConnection(id, `${a.host}:${a.port}`) } });
console.log(`fake-upstream gateway listening on ${gw.url} (runtime: ${rt.name})`);
const stop = () => void gw.stop({ timeoutMs: 1000 }).finally(() => rt.exit(0));
rt.onSignal("SIGINT", stop);
rt.onSignal("SIGTERM", stop);
