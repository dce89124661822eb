// The gateway as a child process under constant load: SIGTERM drains without failing an accepted
// request and exits 0; SIGHUP and config file changes reload without failing a request, and an
// invalid config is refused with its error while the running one keeps serving.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemoBackend, type DemoBackend } from "../../src/demo/demo-backend.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { startChildGateway, writeYaml, type ChildGateway } from "../helpers/child-gateway.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

let backend: DemoBackend;
let dir: string;
let child: ChildGateway | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function baseConfig(extra: Record<string, unknown> = {}) {
  return {
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backend.grpcPort}`] }],
    services: [{ match: "*", upstream: "demo" }],
    logging: { level: "info", accessLog: false },
    ...extra,
  };
}

interface Outcome {
  readonly status: number | string;
  readonly startedAt: number;
}

/** `concurrency` clients calling Echo back to back until `stop()` says so. */
function constantLoad(url: string, concurrency: number, delayMs: number, stop: () => boolean) {
  const outcomes: Outcome[] = [];
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = 0; !stop(); i++) {
      const startedAt = Date.now();
      try {
        const res = await fetch(`${url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: `w${w}-${i}`, delayMs }) });
        const body = (await res.json()) as { text?: string };
        outcomes.push({ status: res.status === 200 && body.text === `w${w}-${i}` ? 200 : res.status, startedAt });
      } catch (e) {
        outcomes.push({ status: String(e), startedAt });
      }
    }
  });
  return { outcomes, done: Promise.all(workers) };
}

/** Resolves true when a fresh TCP connection is refused (nobody listening). */
function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

beforeAll(async () => {
  backend = await startDemoBackend({ runtime: await detectRuntime(), descriptorPath: DESCRIPTORS });
  dir = mkdtempSync(join(tmpdir(), "sluice-lifecycle-"));
});

afterEach(() => {
  child?.kill();
  child = undefined;
});

afterAll(() => {
  backend.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("SIGTERM", () => {
  test(
    "readyz turns 503 at once, traffic is served through the drain delay, in-flight calls finish, exit code 0",
    async () => {
      const DRAIN_MS = 1000;
      const file = join(dir, "sigterm.yaml");
      await writeYaml(file, baseConfig({ shutdown: { drainDelay: DRAIN_MS, timeout: "5s" } }));
      const gw = (child = await startChildGateway(file));
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

      // Clients keep sending until they have seen /readyz fail for 300 ms, as a load balancer would.
      let notReadyAt = 0;
      const load = constantLoad(gw.url, 8, 50, () => notReadyAt > 0 && Date.now() > notReadyAt + 300);
      const watcher = (async () => {
        while (notReadyAt === 0) {
          const r = await fetch(`${gw.url}/readyz`).catch(() => undefined);
          if (r?.status === 503) notReadyAt = Date.now();
          else await sleep(20);
        }
      })();
      await sleep(400);
      const termAt = Date.now();
      gw.proc.kill("SIGTERM");
      await watcher;
      expect(notReadyAt - termAt).toBeLessThan(DRAIN_MS / 2);
      // A long call accepted during the drain delay is still running when the listener closes.
      const long = fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "POST", body: JSON.stringify({ text: "long", delayMs: 1500 }) }).then(async (r) => ({ status: r.status, body: await r.json() }));
      await load.done;

      await gw.waitForLog((l) => l.msg === "shutdown: stopping", 5000);
      await sleep(50);
      expect(await refused(gw.url)).toBe(true);
      const longResult = await long;
      expect(longResult).toEqual({ status: 200, body: { text: "long" } });

      const code = await Promise.race([gw.exited, sleep(8000).then(() => "timeout")]);
      expect(code).toBe(0);

      const failed = load.outcomes.filter((o) => o.status !== 200);
      expect(failed).toEqual([]);
      expect(load.outcomes.length).toBeGreaterThan(20);
      // Requests were accepted and served after /readyz had turned 503.
      expect(load.outcomes.filter((o) => o.startedAt > notReadyAt).length).toBeGreaterThan(0);
      const msgs = gw.logs().map((l) => l.msg);
      expect(msgs.indexOf("shutdown: draining")).toBeLessThan(msgs.indexOf("shutdown: stopping"));
      expect(gw.logs().find((l) => l.msg === "gateway stopped")).toMatchObject({ clean: true });
    },
    30_000,
  );
});

describe("hot reload", () => {
  test(
    "SIGHUP and file changes apply valid configs and refuse invalid ones, under load, without a failed request",
    async () => {
      const file = join(dir, "reload.yaml");
      await writeYaml(file, baseConfig({ reload: { watch: true, interval: "200ms" } }));
      const gw = (child = await startChildGateway(file));
      const preflight = () =>
        fetch(`${gw.url}/demo.v1.EchoService/Echo`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } }).then((r) => r.headers.get("access-control-allow-origin"));
      expect(await preflight()).toBeNull();
      const opened = async () => {
        const s = (await (await fetch(`${gw.url}/admin/upstreams`)).json()) as { upstreams: { endpoints: { opened: number }[] }[] };
        return s.upstreams[0]!.endpoints[0]!.opened;
      };

      let stop = false;
      const load = constantLoad(gw.url, 6, 5, () => stop);
      await sleep(300);
      const openedBefore = await opened();

      // 1. A valid change, applied on SIGHUP: CORS turns on; the upstream (same config) is reused.
      let since = gw.mark();
      await writeYaml(file, baseConfig({ reload: { watch: true, interval: "200ms" }, cors: { origins: ["https://app.example"] } }));
      gw.proc.kill("SIGHUP");
      const applied = await gw.waitForLog((l) => l.msg === "config reloaded", 5000, since);
      expect(applied.reused).toEqual(["demo"]);
      expect(await preflight()).toBe("https://app.example");
      // SIGHUP reloads even when nothing changed. (Let the watcher see the new file first.)
      await sleep(300);
      since = gw.mark();
      gw.proc.kill("SIGHUP");
      await gw.waitForLog((l) => l.msg === "config reloaded" && l.trigger === "SIGHUP", 5000, since);

      // 2. An invalid file, noticed by the watcher: refused with its paths; the running config stays.
      since = gw.mark();
      await writeYaml(file, { ...baseConfig({ reload: { watch: true, interval: "200ms" } }), upstreams: [{ name: "demo", endpoints: ["nowhere"] }], shutdown: { timeout: "soon" } });
      const refusedLine = await gw.waitForLog((l) => l.msg === "config reload refused; the running config stays" && l.trigger === "file change", 5000, since);
      expect(refusedLine.path).toBe(file);
      expect(refusedLine.issues).toEqual(['upstreams.0.endpoints.0: expected "host:port"', 'shutdown.timeout: expected a duration like "1.5s", "300ms" or a number of ms, got "soon"']);
      expect(await preflight()).toBe("https://app.example");

      // 3. The same invalid file on SIGHUP: refused again.
      since = gw.mark();
      gw.proc.kill("SIGHUP");
      await gw.waitForLog((l) => l.msg === "config reload refused; the running config stays" && l.trigger === "SIGHUP", 5000, since);

      // 3b. Valid but cannot be built (a descriptor set that does not exist): refused as well.
      await sleep(300); // the watcher has seen the invalid file; this write is new to it
      since = gw.mark();
      await writeYaml(file, { ...baseConfig({ reload: { watch: true, interval: "200ms" } }), descriptors: [join(dir, "missing.binpb")] });
      gw.proc.kill("SIGHUP");
      const buildFailure = await gw.waitForLog((l) => l.msg === "config reload refused; the running config stays", 5000, since);
      expect(buildFailure.error).toContain("missing.binpb");
      expect(buildFailure.issues).toBeUndefined();
      await sleep(300);
      expect(await preflight()).toBe("https://app.example");

      // 4. Fixed again through the watcher.
      since = gw.mark();
      await writeYaml(file, baseConfig({ reload: { watch: true, interval: "200ms" } }));
      await gw.waitForLog((l) => l.msg === "config reloaded" && l.trigger === "file change", 5000, since);
      expect(await preflight()).toBeNull();

      await sleep(200);
      stop = true;
      await load.done;
      expect(load.outcomes.length).toBeGreaterThan(50);
      expect(load.outcomes.filter((o) => o.status !== 200)).toEqual([]);
      // The pooled connection was kept through every reload.
      expect(await opened()).toBe(openedBefore);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      // A quick write may be seen by the watcher and SIGHUP both: count what the log says happened.
      const reloaded = gw.logs().filter((l) => l.msg === "config reloaded").length;
      const refusals = gw.logs().filter((l) => l.msg === "config reload refused; the running config stays").length;
      expect(reloaded).toBeGreaterThanOrEqual(3);
      expect(refusals).toBeGreaterThanOrEqual(3);
      expect(metrics).toContain(`sluice_config_reloads_total{result="success"} ${reloaded}`);
      expect(metrics).toContain(`sluice_config_reloads_total{result="failure"} ${refusals}`);

      gw.proc.kill("SIGTERM");
      expect(await Promise.race([gw.exited, sleep(8000).then(() => "timeout")])).toBe(0);
    },
    30_000,
  );
});
