import { describe, expect, test } from "bun:test";
import { parseConfigText, type Config } from "../config/index.ts";
import { createLogger } from "../observability/index.ts";
import { ConfigReloader } from "./config-reloader.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const valid = (port: number) => `descriptors: [a.binpb]
listen: { port: ${port} }
upstreams: [{ name: u, endpoints: ["127.0.0.1:1"] }]
services: [{ match: "*", upstream: u }]
`;

function setup(initial: string) {
  const files = { text: initial };
  const applied: Config[] = [];
  const lines: Record<string, unknown>[] = [];
  let refused = 0;
  let failApply: string | undefined;
  const r = new ConfigReloader({
    path: "/etc/sluice/config.yaml",
    readText: async () => files.text,
    parse: parseConfigText,
    apply: async (c) => {
      if (failApply) throw new Error(failApply);
      applied.push(c);
      return { reused: ["u"] };
    },
    logger: createLogger({ sink: (l) => lines.push(JSON.parse(l)) }),
    initialText: initial,
    onRefused: () => refused++,
  });
  return { r, files, applied, lines, refused: () => refused, failApply: (m: string | undefined) => (failApply = m) };
}

describe("ConfigReloader", () => {
  test("a valid file is applied and logged with the summary", async () => {
    const s = setup(valid(1));
    s.files.text = valid(2);
    const out = await s.r.reload("SIGHUP");
    expect(out.ok).toBe(true);
    expect(s.applied.map((c) => c.listen.port)).toEqual([2]);
    expect(s.lines.at(-1)).toMatchObject({ level: "info", msg: "config reloaded", trigger: "SIGHUP", reused: ["u"] });
  });

  test("an invalid file is refused with the paths of its errors; nothing is applied", async () => {
    const s = setup(valid(1));
    s.files.text = valid(1).replace('"127.0.0.1:1"', '"nowhere"') + "shutdown: { timeout: soon }\n";
    const out = await s.r.reload("SIGHUP");
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.issues).toEqual(['upstreams.0.endpoints.0: expected "host:port"', 'shutdown.timeout: expected a duration like "1.5s", "300ms" or a number of ms, got "soon"']);
    expect(s.applied).toEqual([]);
    expect(s.refused()).toBe(1);
    expect(s.lines.at(-1)).toMatchObject({ level: "error", msg: "config reload refused; the running config stays", path: "/etc/sluice/config.yaml" });
    expect(JSON.stringify(s.lines.at(-1))).toContain("upstreams.0.endpoints.0");
  });

  test("YAML syntax errors and build failures are refused too", async () => {
    const s = setup(valid(1));
    s.files.text = "upstreams: [";
    const a = await s.r.reload("SIGHUP");
    expect(a.ok).toBe(false);
    s.files.text = valid(3);
    s.failApply("descriptor file missing");
    const b = await s.r.reload("SIGHUP");
    expect(b).toEqual({ ok: false, error: "descriptor file missing" });
    // Only the file refused before apply; the gateway counts its own build failures.
    expect(s.refused()).toBe(1);
  });

  test("watch: reloads when the content changes, not when it stays the same", async () => {
    const s = setup(valid(1));
    s.r.watch(20);
    try {
      await sleep(80);
      expect(s.applied).toEqual([]);
      s.files.text = valid(4);
      for (let i = 0; i < 50 && s.applied.length === 0; i++) await sleep(10);
      expect(s.applied.map((c) => c.listen.port)).toEqual([4]);
      await sleep(80);
      expect(s.applied.length).toBe(1);
    } finally {
      s.r.close();
    }
  });

  test("watch: a file still being written is not taken until it is stable", async () => {
    const s = setup(valid(1));
    let reads = 0;
    const r = new ConfigReloader({
      path: "c.yaml",
      // Half a file on the first read of the change, the whole file from then on.
      readText: async () => (++reads === 2 ? valid(6).slice(0, 20) : reads < 2 ? valid(1) : valid(6)),
      parse: parseConfigText,
      apply: async (c) => void s.applied.push(c),
      logger: createLogger({ sink: () => {} }),
      initialText: valid(1),
      onRefused: () => {
        throw new Error("a half-written file was refused");
      },
      settleMs: 5,
    });
    r.watch(15);
    try {
      for (let i = 0; i < 50 && s.applied.length === 0; i++) await sleep(10);
      expect(s.applied.map((c) => c.listen.port)).toEqual([6]);
    } finally {
      r.close();
    }
  });

  test("reloads never overlap", async () => {
    let running = 0;
    let maxRunning = 0;
    const r = new ConfigReloader({
      path: "c.yaml",
      readText: async () => valid(5),
      parse: parseConfigText,
      apply: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(15);
        running--;
      },
      logger: createLogger({ sink: () => {} }),
    });
    const all = await Promise.all([r.reload("a"), r.reload("b"), r.reload("c")]);
    expect(all.every((x) => x.ok)).toBe(true);
    expect(maxRunning).toBe(1);
  });
});
