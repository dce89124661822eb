// README.md documents the config in ```yaml blocks. Every block must be accepted by the schema (which is
// strict: a key the README names but the schema lacks, or spells differently, is an error), once the
// parts a block leaves out (descriptors, an upstream, a services entry) are filled in. And the reverse for
// the upstream section: every key the schema accepts there is named somewhere in the README.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { configSchema, parseConfig } from "../src/config/index.ts";

const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

type Obj = Record<string, any>;

/** The block, completed into a whole config: the smallest additions that make it one. */
function complete(block: Obj): Obj {
  const c: Obj = { descriptors: ["idl/descriptors.binpb"], ...block };
  const upstreams: Obj[] = [...(c.upstreams ?? [])];
  const names = new Set(upstreams.map((u) => u.name));
  for (const s of (c.services ?? []) as Obj[]) {
    if (!names.has(s.upstream)) {
      upstreams.push({ name: s.upstream, endpoints: ["127.0.0.1:1"] });
      names.add(s.upstream);
    }
  }
  if (upstreams.length === 0) upstreams.push({ name: "any", endpoints: ["127.0.0.1:1"] });
  c.upstreams = upstreams;
  c.services ??= [{ match: "*", upstream: upstreams[0]!.name }];
  return c;
}

describe("README config blocks", () => {
  test("there are blocks to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });
  blocks.forEach((text, i) => {
    const first = text.split("\n")[0]!.trim();
    test(`block ${i + 1} (${first.slice(0, 50)}) is a valid config`, () => {
      const block = parse(text) as Obj;
      expect(() => parseConfig(complete(block), `README block ${i + 1}`)).not.toThrow();
    });
  });
});

test("every key of an upstream's config is named in the README", () => {
  const keys: string[] = [];
  const walk = (s: any, path: string) => {
    const def = s?._zod?.def;
    if (!def) return;
    if (def.type === "object") {
      for (const [k, v] of Object.entries(def.shape)) {
        keys.push(`${path}${k}`);
        walk(v, `${path}${k}.`);
      }
    } else if (["default", "optional", "nullable", "prefault", "readonly"].includes(def.type)) walk(def.innerType, path);
    else if (def.type === "pipe") walk(def.in, path);
    else if (def.type === "union") for (const o of def.options) walk(o, path);
    else if (def.type === "array") walk(def.element, path);
  };
  const upstream = (configSchema as any)._zod.def.in?._zod.def.shape?.upstreams ?? (configSchema as any)._zod.def.shape?.upstreams;
  walk(upstream, "");
  expect(keys.length).toBeGreaterThan(20);
  const missing = keys.filter((k) => !new RegExp(`\\b${k.split(".").pop()}\\b`).test(readme));
  expect(missing).toEqual([]);
});
