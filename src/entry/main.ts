// Shared entry: load config (--config, SLUICE_CONFIG) or start the built-in demo; run until SIGINT/SIGTERM
// (graceful: drain, then exit 0); SIGHUP or a changed config file reloads it.
import { ConfigError, parseConfig, parseConfigText, type Config } from "../config/index.ts";
import { ConfigReloader, gracefulShutdown } from "../lifecycle/index.ts";
import { createLogger } from "../observability/index.ts";
import { demoConfig, type DemoProtocol } from "../demo/demo-config.ts";
import { demoDescriptorPath, startDemoBackend } from "../demo/demo-backend.ts";
import { startGateway } from "../gateway.ts";
import type { Runtime } from "../runtime/index.ts";

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

export async function main(rt: Runtime): Promise<void> {
  try {
    await run(rt);
  } catch (e) {
    // Start-up failed (invalid config, unreadable descriptor set, port in use): say why in one message, not a
    // crash dump; a config error lists every problem with its path.
    console.error(e instanceof ConfigError ? e.message : `sluice: start-up failed: ${e instanceof Error ? e.message : String(e)}`);
    rt.exit(1);
  }
}

async function run(rt: Runtime): Promise<void> {
  const args = rt.args();
  const configPath = argValue(args, "--config") ?? rt.env("SLUICE_CONFIG");
  const portEnv = rt.env("PORT");
  let config: Config;
  const stops: (() => Promise<void>)[] = [];
  let demo = false;
  // PORT overrides the file, at start-up and on every reload alike.
  const parseFile = (text: string, path: string): Config => {
    const c = parseConfigText(text, path);
    return portEnv ? { ...c, listen: { ...c.listen, port: Number(portEnv) } } : c;
  };
  let configText: string | undefined;
  if (configPath) {
    configText = await rt.readTextFile(configPath);
    config = parseFile(configText, configPath);
  } else {
    demo = true;
    const protocol = (rt.env("SLUICE_DEMO_PROTOCOL") ?? "grpc") as DemoProtocol;
    if (!["grpc", "ttheader-mux", "ttheader-pool"].includes(protocol)) throw new Error(`SLUICE_DEMO_PROTOCOL must be grpc, ttheader-mux or ttheader-pool`);
    const descriptorPath = demoDescriptorPath();
    const backend = await startDemoBackend({ runtime: rt, descriptorPath, orderLatencyMs: Number(rt.env("SLUICE_DEMO_ORDER_MS") ?? 300) });
    stops.push(() => backend.stop());
    config = parseConfig(demoConfig({ port: Number(portEnv ?? 8080), descriptorPath, backendPort: protocol === "grpc" ? backend.grpcPort : backend.ttheaderPort, protocol, grpcPort: backend.grpcPort }));
  }
  const logger = createLogger({ level: config.logging.level });
  const gw = await startGateway({ config, runtime: rt, logger });
  console.log(`sluice listening on ${gw.url} (runtime: ${rt.name}${demo ? `, built-in demo over ${rt.env("SLUICE_DEMO_PROTOCOL") ?? "grpc"}` : ""})`);
  if (demo) {
    const u = gw.url;
    console.log(`try:
  curl -s -d '{"text":"hi","n":"42"}' ${u}/demo.v1.EchoService/Echo
  curl -s '${u}/v1/symbols/BTCUSDT/klines?interval=1m&limit=3'
  curl -sN '${u}/v1/symbols/BTCUSDT/quotes?count=5'
  curl -s -d '{"client_order_id":"c1","symbol":"BTCUSDT","side":"BUY","quantity":"0.5","price":"64000"}' ${u}/v1/orders`);
  }
  let reloader: ConfigReloader | undefined;
  if (configPath) {
    const r = new ConfigReloader({
      path: configPath,
      readText: (p) => rt.readTextFile(p),
      parse: parseFile,
      apply: (c) => gw.reload(c),
      logger,
      initialText: configText,
      onRefused: () => gw.metrics.reloaded(false),
    });
    rt.onSignal("SIGHUP", () => void r.reload("SIGHUP"));
    if (config.reload.watch) r.watch(config.reload.interval);
    reloader = r;
  }
  let stopping = false;
  const shutdown = async (cause: "SIGINT" | "SIGTERM") => {
    if (stopping) return;
    stopping = true;
    reloader?.close();
    let code = 0;
    try {
      // Settings of the running config (a reload may have changed them). An interactive Ctrl-C skips the drain delay.
      const settings = gw.config.shutdown;
      await gracefulShutdown(gw, { drainDelayMs: cause === "SIGTERM" ? settings.drainDelay : 0, timeoutMs: settings.timeout, logger, cause });
      for (const s of stops) await s();
    } catch (e) {
      logger.error("shutdown failed", { error: e });
      code = 1;
    }
    rt.exit(code);
  };
  rt.onSignal("SIGINT", () => void shutdown("SIGINT"));
  rt.onSignal("SIGTERM", () => void shutdown("SIGTERM"));
}
