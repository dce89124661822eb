// Issue 2, config: an optional YAML or JSON file given by `--config path` (or `--config=path`) or env
// SLUICE_CONFIG, validated at start-up with errors that name each path. The gateway runs as its own process
// (src/entry/bun.ts), as in production.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { runtime } from "../helpers/fault-gateway.ts";
import { BUN, ROOT } from "../helpers/child-gateway.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let dir: string;
let backend: DemoBackend;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-config-"));
  backend = await startDemoBackend({ runtime: await runtime(), descriptorPath: DESCRIPTORS, orderLatencyMs: 10 });
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  backend.kill();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const proc = spawn(BUN, ["src/entry/bun.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: "", SLUICE_CONFIG: "", ...env } });
  children.add(proc);
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, out: () => out, err: () => err, exited };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

async function listening(r: ReturnType<typeof run>): Promise<string> {
  const end = Date.now() + 15_000;
  for (;;) {
    const m = /sluice listening on (\S+)/.exec(r.out());
    if (m) return m[1]!;
    if (r.proc.exitCode !== null || Date.now() > end) throw new Error(`not listening; stdout:\n${r.out()}\nstderr:\n${r.err()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

function config(): Record<string, unknown> {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "demo", protocol: "grpc", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
    services: [{ match: "*", upstream: "demo" }],
  };
}

describe("config at start-up", () => {
  for (const form of ["SLUICE_CONFIG (JSON file)", "--config=path (YAML file)"] as const) {
    test(`${form}: the file's upstream serves; SIGINT exits 0`, async () => {
      const json = form.startsWith("SLUICE");
      const path = join(dir, json ? "gw.json" : "gw.yaml");
      const c = config();
      writeFileSync(path, json ? JSON.stringify(c) : Object.entries(c).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n"));
      const r = json ? run([], { SLUICE_CONFIG: path }) : run([`--config=${path}`]);
      const url = await listening(r);
      expect(r.out()).not.toContain("built-in demo");
      const res = await fetch(`${url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: form }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ text: form });
      r.proc.kill("SIGINT");
      expect(await within(r.exited, 15_000, "exit after SIGINT")).toBe(0);
    }, 30_000);
  }

  test("an invalid file: exit 1 and one message listing every problem with its path (no crash dump)", async () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, `descriptors: [${DESCRIPTORS}]\nupstreams:\n  - name: x\n    endpoints: ["nohostport"]\n    pool: { maxIdle: -1 }\nservices: [{ match: "*", upstream: y }]\n`);
    const r = run(["--config", path]);
    expect(await within(r.exited, 15_000, "exit on a bad config")).toBe(1);
    const err = r.err();
    expect(err).toContain(`invalid config ${path}`);
    expect(err).toContain('upstreams.0.endpoints.0: expected "host:port"');
    expect(err).toContain("upstreams.0.pool.maxIdle:");
    expect(err).toContain('services.0.upstream: no upstream named "y" (have: x)');
    expect(err).not.toContain("at parseConfig");
    expect(r.out()).not.toContain("sluice listening");
  }, 30_000);

  test("a missing file or descriptor set: exit 1 naming it", async () => {
    const missing = join(dir, "nope.yaml");
    const r1 = run(["--config", missing]);
    expect(await within(r1.exited, 15_000, "exit on a missing config")).toBe(1);
    expect(r1.err()).toContain("nope.yaml");
    const path = join(dir, "nodesc.json");
    writeFileSync(path, JSON.stringify({ ...config(), descriptors: [join(dir, "missing.binpb")] }));
    const r2 = run(["--config", path]);
    expect(await within(r2.exited, 15_000, "exit on a missing descriptor set")).toBe(1);
    expect(r2.err()).toContain("missing.binpb");
  }, 30_000);
});
