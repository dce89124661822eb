// Container and Kubernetes files, checked without a Docker engine: they parse, their ports, probe
// paths and shutdown budget agree with the gateway's real endpoints and config, and the image's
// command (run here from the repo, which has the image's /app layout) starts the gateway.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { parseConfig, type Config } from "../src/config/index.ts";
import { startDemoBackend, type DemoBackend } from "../src/demo/demo-backend.ts";
import { ADMIN_PATHS } from "../src/http/index.ts";
import { detectRuntime } from "../src/runtime/index.ts";
import { BUN, ROOT, startChildGateway, writeYaml, type ChildGateway } from "./helpers/child-gateway.ts";

interface Instruction {
  readonly op: string;
  readonly args: string;
  /** Index of the FROM stage it belongs to. */
  readonly stage: number;
}

/** Dockerfile instructions (comments dropped, "\" continuations joined). */
function dockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const sp = full.indexOf(" ");
    const op = full.slice(0, sp).toUpperCase();
    if (op === "FROM") stage++;
    out.push({ op, args: full.slice(sp + 1).trim(), stage });
  }
  return out;
}

const files = {
  dockerfile: dockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8")),
  dockerignore: readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()),
};

function k8s(name: string): any[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, "deploy", "k8s", name), "utf8"));
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS());
}

const deployment = k8s("deployment.yaml")[0];
const configMap = k8s("configmap.yaml")[0];
const container = deployment.spec.template.spec.containers[0];
const gatewayConfig: Config = parseConfig(parse(configMap.data["config.yaml"]));
const last = (op: string) => files.dockerfile.filter((i) => i.op === op && i.stage === Math.max(...files.dockerfile.map((x) => x.stage))).at(-1);
const cmd: string[] = JSON.parse(last("CMD")!.args);
const healthcheckCmd: string[] = JSON.parse(last("HEALTHCHECK")!.args.replace(/^.*?CMD\s+/, ""));

describe("Dockerfile", () => {
  test("Bun base images, a non-root user, the gateway's port, exec-form command", () => {
    const froms = files.dockerfile.filter((i) => i.op === "FROM").map((i) => i.args);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toMatch(/^oven\/bun:/);
    const user = last("USER")!.args;
    expect(["root", "0", "0:0"]).not.toContain(user);
    expect(last("EXPOSE")!.args).toBe(String(gatewayConfig.listen.port));
    expect(cmd.slice(0, 2)).toEqual(["bun", "src/entry/bun.ts"]);
    expect(existsSync(join(ROOT, cmd[1]!))).toBe(true);
    expect(cmd[cmd.indexOf("--config") + 1]).toBe("/etc/sluice/config.yaml");
  });

  test("the health check probes /healthz on PORT, by default the exposed port", () => {
    expect(healthcheckCmd[0]).toBe("bun");
    const script = healthcheckCmd.join(" ");
    // The URL with the port expression put back as the default it falls back to.
    const m = /`http:\/\/127\.0\.0\.1:\$\{process\.env\.PORT \|\| (\d+)\}(\/[^`]*)`/.exec(script);
    expect(m).not.toBeNull();
    expect(m![2]).toBe("/healthz");
    expect(ADMIN_PATHS.has("/healthz")).toBe(true);
    expect(m![1]).toBe(String(gatewayConfig.listen.port));
    expect(last("EXPOSE")!.args).toBe(m![1]!);
  });

  test("the Bun base image is pinned to the Bun in package-lock.json (node_modules/bun)", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
    const locked: string = lock.packages["node_modules/bun"].version;
    expect(locked).toMatch(/^\d+\.\d+\.\d+$/);
    expect(JSON.parse(readFileSync(join(ROOT, "node_modules", "bun", "package.json"), "utf8")).version).toBe(locked);
    const arg = files.dockerfile.find((i) => i.op === "ARG" && i.args.startsWith("BUN_VERSION="));
    expect(arg?.args).toBe(`BUN_VERSION=${locked}`);
    // Every stage uses that ARG (a literal tag would bypass the pin).
    const froms = files.dockerfile.filter((i) => i.op === "FROM").map((i) => i.args);
    for (const f of froms) expect(f).toMatch(/^oven\/bun:\$\{BUN_VERSION\}(-slim)?( AS \w+)?$/);
  });

  test("everything it copies exists; dependencies are installed in the image, not copied", () => {
    for (const c of files.dockerfile.filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))) {
      const parts = c.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) expect(existsSync(join(ROOT, src))).toBe(true);
    }
    expect(files.dockerignore).toContain("node_modules");
    expect(files.dockerfile.some((i) => i.op === "RUN" && /bun install --production/.test(i.args))).toBe(true);
  });
});

describe("Kubernetes manifests", () => {
  test("every file parses; the kustomization lists them all", () => {
    const kustomization = k8s("kustomization.yaml")[0];
    for (const r of kustomization.resources) expect(k8s(r).length).toBeGreaterThan(0);
    expect(kustomization.resources.sort()).toEqual(["backend-headless-service.yaml", "configmap.yaml", "deployment.yaml", "service.yaml"]);
  });

  test("probes use the gateway's real endpoints and port", () => {
    const port = container.ports.find((p: any) => p.name === "http").containerPort;
    expect(port).toBe(gatewayConfig.listen.port);
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    for (const p of ["/readyz", "/healthz"]) expect(ADMIN_PATHS.has(p)).toBe(true);
    const svc = k8s("service.yaml")[0];
    expect(svc.spec.ports[0].targetPort).toBe("http");
    expect(svc.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  test("the config is mounted where the image's command reads it, and is a valid gateway config", () => {
    const configPath = cmd[cmd.indexOf("--config") + 1]!;
    const mount = container.volumeMounts.find((m: any) => m.mountPath === dirname(configPath));
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toContain(configPath.split("/").at(-1));
    for (const d of gatewayConfig.descriptors) expect(existsSync(join(ROOT, d))).toBe(true);
    expect(gatewayConfig.reload.watch).toBe(true);
  });

  test("the termination grace period covers preStop + drain delay + shutdown timeout; readiness fails within the drain delay", () => {
    const spec = deployment.spec.template.spec;
    const preStop: string[] = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe("sleep");
    const preStopSec = Number(preStop[1]);
    const { drainDelay, timeout } = gatewayConfig.shutdown;
    expect(drainDelay).toBeGreaterThan(0);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopSec + (drainDelay + timeout) / 1000);
    const r = container.readinessProbe;
    expect(r.periodSeconds * r.failureThreshold * 1000).toBeLessThan(drainDelay);
  });

  test("non-root, read-only root filesystem, no privilege escalation", () => {
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  test("the backend example is a headless Service (DNS returns pod IPs), discovered by DNS on the port it serves", () => {
    const backend = k8s("backend-headless-service.yaml")[0];
    expect(backend.spec.clusterIP).toBe("None");
    // dns discovery, not `endpoints`: a host name there is resolved once, and pods come and go.
    const u = gatewayConfig.upstreams[0]!;
    expect(u.endpoints).toEqual([]);
    expect(u.dns?.host.startsWith(`${backend.metadata.name}.`)).toBe(true);
    expect(u.dns?.port).toBe(backend.spec.ports[0].port);
  });
});

describe("the image's command", () => {
  let backend: DemoBackend;
  let dir: string;
  let gw: ChildGateway | undefined;

  beforeAll(async () => {
    backend = await startDemoBackend({ runtime: await detectRuntime(), descriptorPath: join(ROOT, "idl", "descriptors.binpb") });
    dir = mkdtempSync(join(tmpdir(), "sluice-deploy-"));
  });

  afterAll(() => {
    gw?.kill();
    backend.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "starts the gateway with the ConfigMap's config (port and backend swapped for local ones); the health check passes; SIGTERM exits 0",
    async () => {
      const local = parse(configMap.data["config.yaml"]);
      local.listen = { host: "127.0.0.1", port: 0 };
      delete local.upstreams[0].dns;
      local.upstreams[0].endpoints = [`127.0.0.1:${backend.grpcPort}`];
      local.shutdown = { drainDelay: "100ms", timeout: "2s" };
      const file = join(dir, "config.yaml");
      await writeYaml(file, local);
      const args = cmd.slice(1).map((a) => (a === "/etc/sluice/config.yaml" ? file : a));
      expect(args[0]).toBe("src/entry/bun.ts");
      gw = await startChildGateway(file, args);
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "from the image's command" }) });
      expect(await res.json()).toEqual({ text: "from the image's command" });

      // The HEALTHCHECK script itself, unchanged, with PORT set to this gateway's port, and to a port nobody serves.
      const port = new URL(gw.url).port;
      const run = (p: string) => spawnSync(BUN, healthcheckCmd.slice(1), { cwd: ROOT, timeout: 10_000, env: { ...process.env, PORT: p } });
      expect(run(port).status).toBe(0);
      expect(run("1").status).toBe(1);

      gw.proc.kill("SIGTERM");
      expect(await Promise.race([gw.exited, new Promise((r) => setTimeout(() => r("timeout"), 8000))])).toBe(0);
    },
    30_000,
  );
});
