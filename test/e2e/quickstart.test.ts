// Issue 2's outcome, as README.md's quick start promises it: `npm run gateway` (and the Node and Deno
// entries, and SLUICE_DEMO_PROTOCOL=ttheader-mux|ttheader-pool) starts the built-in demo, prints its address
// and curl lines that work as printed, and README shows those same lines. Each variant runs as its own
// process, started with the command its package.json script / deno.json task names (PORT=0: an ephemeral
// port), and stops cleanly on SIGINT (Ctrl-C).
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
const denoTasks = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { tasks: Record<string, string> }).tasks;
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** A script's command line, with its tool taken from node_modules/.bin (what `npm run` puts on PATH). */
function command(script: string): string[] {
  const words = script.replace(/^env /, "").split(/\s+/);
  return [join(BIN, words[0]!), ...words.slice(1)];
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

interface Started {
  readonly proc: ChildProcess;
  readonly out: () => string;
  readonly exited: Promise<number | null>;
}

async function start(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<Started> {
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SLUICE_CONFIG: "", PORT: "0", ...env } });
  children.add(proc);
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const end = Date.now() + timeoutMs;
  // The curl lines come last; wait until the fourth one is complete.
  while (!/(^ {2}curl .*\n){4}/m.test(out)) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`no curl lines from ${argv.join(" ")}; stdout:\n${out}\nstderr:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, out: () => out, exited };
}

/** `curl -s[N] [-d 'json'] 'url'` as printed -> a fetch. */
async function runCurl(line: string): Promise<{ status: number; text: string }> {
  const m = /^curl -sN? (?:-d '([^']*)' )?'?([^'\s]+)'?$/.exec(line.trim());
  if (!m) throw new Error(`not a curl line this test understands: ${line}`);
  const [, body, url] = m;
  const res = await fetch(url!, body === undefined ? {} : { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
  return { status: res.status, text: await res.text() };
}

/** Lines with their base URL replaced, so the printed ones compare with README's (localhost:8080). */
const normalize = (lines: string[]) => lines.map((l) => l.trim().replace(/https?:\/\/127\.0\.0\.1:\d+|localhost:8080/, "BASE"));

const variants: { name: string; argv: string[]; env: Record<string, string> }[] = [
  { name: "npm run gateway (bun)", argv: command(pkg.scripts["gateway"]!), env: {} },
  { name: "npm run gateway, SLUICE_DEMO_PROTOCOL=ttheader-mux", argv: command(pkg.scripts["gateway"]!), env: { SLUICE_DEMO_PROTOCOL: "ttheader-mux" } },
  { name: "npm run gateway, SLUICE_DEMO_PROTOCOL=ttheader-pool", argv: command(pkg.scripts["gateway"]!), env: { SLUICE_DEMO_PROTOCOL: "ttheader-pool" } },
  { name: "npm run gateway:node (tsx)", argv: command(pkg.scripts["gateway:node"]!), env: {} },
  { name: "deno task gateway", argv: command(denoTasks["gateway"]!), env: {} },
];

describe("README quick start", () => {
  for (const v of variants) {
    test(`${v.name}: prints its address and README's curl lines, which work as printed; SIGINT exits 0`, async () => {
      const s = await start(v.argv, v.env, 40_000);
      const protocol = v.env.SLUICE_DEMO_PROTOCOL ?? "grpc";
      expect(s.out()).toMatch(new RegExp(`sluice listening on http://127\\.0\\.0\\.1:\\d+ \\(runtime: \\w+, built-in demo over ${protocol}\\)`));
      const curls = s.out().split("\n").filter((l) => l.startsWith("  curl "));
      expect(curls).toHaveLength(4);
      // README shows exactly these lines (for localhost:8080).
      const readmeCurls = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("\n## ", readme.indexOf("## Quick start") + 1)).split("\n").filter((l) => l.startsWith("curl "));
      expect(normalize(readmeCurls)).toEqual(normalize(curls));

      const [echo, klines, quotes, order] = await Promise.all(curls.map(runCurl));
      expect(echo).toEqual({ status: 200, text: '{"text":"hi","n":"42"}' });
      expect(klines!.status).toBe(200);
      expect(JSON.parse(klines!.text).klines).toHaveLength(3);
      expect(quotes!.status).toBe(200);
      expect(quotes!.text.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual(["1", "2", "3", "4", "5"]);
      expect(order!.status).toBe(200);
      expect(JSON.parse(order!.text)).toMatchObject({ clientOrderId: "c1", side: "BUY", status: "ACCEPTED" });
      // The unary calls really went over the chosen protocol; in the TTHeader modes the stream went over gRPC.
      const base = /^ {2}curl -s .*?(http:\/\/127\.0\.0\.1:\d+)\//m.exec(s.out())![1];
      const admin = (await (await fetch(`${base}/admin/upstreams`)).json()) as { upstreams: { name: string; protocol: string; endpoints: { details: { callsTotal: number }[] }[] }[] };
      const calls = (name: string) => admin.upstreams.find((u) => u.name === name)!.endpoints.flatMap((e) => e.details).reduce((n, d) => n + d.callsTotal, 0);
      expect(admin.upstreams.find((u) => u.name === "demo")!.protocol).toBe(protocol);
      if (protocol === "grpc") expect(calls("demo")).toBe(4);
      else {
        expect(calls("demo")).toBe(3);
        expect(admin.upstreams.find((u) => u.name === "demo-streams")!.protocol).toBe("grpc");
        expect(calls("demo-streams")).toBe(1);
      }

      s.proc.kill("SIGINT");
      const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r("still running 15 s after SIGINT"), 15_000))]);
      expect(code).toBe(0);
    }, 70_000);
  }
});
