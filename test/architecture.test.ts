// Enforces ../shared/ARCHITECTURE.md: the layer matrix, imports through index.ts, runtime APIs only
// in src/runtime/, library confinement (zod -> config, hono/jose -> http), no cycles, erasable syntax.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const SRC = join(import.meta.dir, "..", "src");

const LAYER: Record<string, number> = {
  core: 0,
  runtime: 1, config: 1, protocol: 1, transcode: 1, observability: 1,
  upstream: 2, discovery: 2, balancer: 2, resilience: 2,
  rpc: 3, backend: 3,
  http: 4,
  "gateway.ts": 5, entry: 5, demo: 5, compose: 5, lifecycle: 5,
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

const files = walk(SRC).filter((f) => !f.endsWith(".test.ts") && !f.endsWith(".case.ts"));
const top = (file: string) => relative(SRC, file).split("/")[0]!;
const IMPORT_RE = /^\s*(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

describe("architecture", () => {
  test("every top-level folder has a layer", () => {
    const unknown = [...new Set(files.map(top))].filter((t) => LAYER[t] === undefined);
    expect(unknown).toEqual([]);
  });

  test("relative imports end in .ts and respect the layer matrix", () => {
    const problems: string[] = [];
    for (const f of files) {
      const from = top(f);
      for (const spec of importsOf(f)) {
        if (!spec.startsWith(".")) continue;
        if (!spec.endsWith(".ts")) problems.push(`${relative(SRC, f)}: "${spec}" lacks .ts`);
        const target = normalize(join(dirname(f), spec));
        const rel = relative(SRC, target);
        if (rel.startsWith("..")) {
          problems.push(`${relative(SRC, f)}: imports outside src: ${spec}`);
          continue;
        }
        const to = rel.split("/")[0]!;
        if (to === from) continue;
        // The composition root (L5) is one unit spread over gateway.ts, compose/, demo/ and entry/.
        const rootInternal = LAYER[from] === 5 && LAYER[to] === 5 && to !== "entry";
        if ((LAYER[to] ?? 99) >= (LAYER[from] ?? -1) && !rootInternal) {
          problems.push(`${relative(SRC, f)} (L${LAYER[from]}) imports ${rel} (L${LAYER[to]})`);
        }
        // Other folders only through their index.ts (entries may pick one runtime adapter).
        // protocol/ is a family of independent protocol folders, each with its own index.ts.
        const isIndex = rel === `${to}/index.ts` || rel === "gateway.ts" || (to === "protocol" && /^protocol\/[\w-]+\/index\.ts$/.test(rel));
        const entryAdapter = from === "entry" && /^runtime\/(bun|deno|node)\/runtime\.ts$/.test(rel);
        const entryDemo = (from === "entry" || from === "gateway.ts") && LAYER[to] === 5;
        if (!isIndex && !entryAdapter && !entryDemo) problems.push(`${relative(SRC, f)}: import ${rel} through ${to}/index.ts`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("runtime APIs (node:*, Bun.*, Deno.*, Buffer, process) only in src/runtime/", () => {
    const problems: string[] = [];
    for (const f of files) {
      if (top(f) === "runtime") continue;
      const code = stripComments(readFileSync(f, "utf8"));
      for (const spec of importsOf(f)) if (spec.startsWith("node:")) problems.push(`${relative(SRC, f)}: ${spec}`);
      if (/\bBun\.\w/.test(code)) problems.push(`${relative(SRC, f)}: Bun.*`);
      if (/\bDeno\.\w/.test(code)) problems.push(`${relative(SRC, f)}: Deno.*`);
      if (/\bBuffer\.|\bnew Buffer\b/.test(code)) problems.push(`${relative(SRC, f)}: Buffer`);
      if (/\bprocess\.\w/.test(code)) problems.push(`${relative(SRC, f)}: process`);
      if (/\bEventEmitter\b/.test(code)) problems.push(`${relative(SRC, f)}: EventEmitter`);
    }
    expect(problems).toEqual([]);
  });

  test("libraries stay in their layer: zod in config/, hono and jose in http/", () => {
    const problems: string[] = [];
    const home: Record<string, string[]> = { zod: ["config"], hono: ["http"], jose: ["http"], "@hono/node-server": ["runtime"], yaml: ["config"] };
    for (const f of files) {
      for (const spec of importsOf(f)) {
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        const allowed = home[pkg];
        if (allowed && !allowed.includes(top(f))) problems.push(`${relative(SRC, f)} imports ${pkg}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("no import cycles", () => {
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f,
        importsOf(f)
          .filter((s) => s.startsWith("."))
          .map((s) => normalize(join(dirname(f), s))),
      );
    }
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const visit = (n: string, stack: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) {
        cycles.push([...stack.slice(stack.indexOf(n)), n].map((p) => relative(SRC, p)).join(" -> "));
        return;
      }
      state.set(n, 1);
      for (const m of graph.get(n) ?? []) visit(m, [...stack, n]);
      state.set(n, 2);
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  test("erasable syntax only: no enum, namespace or parameter properties", () => {
    const problems: string[] = [];
    for (const f of walk(SRC)) {
      const code = stripComments(readFileSync(f, "utf8"));
      if (/^\s*(export\s+)?(declare\s+)?(const\s+)?enum\s/m.test(code)) problems.push(`${relative(SRC, f)}: enum`);
      if (/^\s*(export\s+)?namespace\s/m.test(code)) problems.push(`${relative(SRC, f)}: namespace`);
      if (/constructor\s*\([^)]*?[(,]\s*(private|public|protected|readonly)\s+\w+\s*[:?=,)]/.test(code)) problems.push(`${relative(SRC, f)}: parameter property`);
    }
    expect(problems).toEqual([]);
  });

  test("the checker itself sees violations (guards against a vacuous pass)", () => {
    expect(files.length).toBeGreaterThan(20);
    expect(importsOf(join(SRC, "gateway.ts")).some((s) => s === "./http/index.ts")).toBe(true);
  });
});
