// The demo backend alone, in its own process, on fixed ports, so the gateway under test does not
// share an event loop with it. Usage: bun bench/backend.ts [grpcPort] (default 50150); where the
// demo backend also serves Kitex TTHeader, that listens on grpcPort + 1.
import { demoDescriptorPath, startDemoBackend } from "../src/demo/demo-backend.ts";
import { detectRuntime } from "../src/runtime/index.ts";

const rt = await detectRuntime();
const port = Number(rt.args()[0] ?? 50150);
// Not an object literal at the call: builds whose demo backend has no TTHeader server ignore ttheaderPort.
const options = { runtime: rt, descriptorPath: demoDescriptorPath(), host: "127.0.0.1", grpcPort: port, ttheaderPort: port + 1 };
const backend = await startDemoBackend(options);
const tt = (backend as { ttheaderPort?: number }).ttheaderPort;
console.log(`demo backend listening on 127.0.0.1:${backend.grpcPort} (gRPC)${tt ? `, 127.0.0.1:${tt} (TTHeader)` : ""} (runtime: ${rt.name})`);
const stop = () => {
  backend.kill();
  rt.exit(0);
};
rt.onSignal("SIGINT", stop);
rt.onSignal("SIGTERM", stop);
