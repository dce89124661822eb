// Test stacks: the demo backend and the gateway on loopback, in this process, on ephemeral ports.
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { demoConfig, type DemoProtocol } from "../../src/demo/demo-config.ts";
import { demoDescriptorPath, startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { createLogger, type Logger } from "../../src/observability/index.ts";
import { detectRuntime, type Runtime } from "../../src/runtime/index.ts";

export const DESCRIPTORS = demoDescriptorPath();
/** Demo contracts plus test-only services (testdata.v1, test.v1). */
export const TEST_DESCRIPTORS = DESCRIPTORS.replace(/descriptors\.binpb$/, "test-descriptors.binpb");

export interface Stack {
  readonly url: string;
  readonly gw: Gateway;
  readonly backend: DemoBackend;
  readonly rt: Runtime;
  stop(): Promise<void>;
}

/** Access logs off the test output; pass `sink` to capture the JSON lines. */
export function quietLogger(sink: (line: string) => void = () => {}): Logger {
  return createLogger({ level: "debug", sink });
}

export async function startDemoStack(o: { protocol?: DemoProtocol; orderLatencyMs?: number; tweak?: (c: ConfigInput) => ConfigInput; logger?: Logger } = {}): Promise<Stack> {
  const rt = await detectRuntime();
  const backend = await startDemoBackend({ runtime: rt, descriptorPath: DESCRIPTORS, orderLatencyMs: o.orderLatencyMs ?? 50 });
  let input = demoConfig({ port: 0, host: "127.0.0.1", descriptorPath: DESCRIPTORS, backendPort: (o.protocol ?? "grpc") === "grpc" ? backend.grpcPort : backend.ttheaderPort, protocol: o.protocol ?? "grpc" });
  if (o.tweak) input = o.tweak(input);
  const gw = await startGateway({ config: parseConfig(input), runtime: rt, logger: o.logger ?? quietLogger() });
  return {
    url: gw.url,
    gw,
    backend,
    rt,
    stop: async () => {
      await gw.stop();
      backend.kill();
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
