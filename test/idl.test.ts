// The committed descriptor set must match the .proto files: rebuild with buf and compare bytes.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

// The gateway's demo set holds only the demo contracts; tests load the full set (with test-only services).
const SETS: [string, string[]][] = [
  ["idl/descriptors.binpb", ["--path", "idl/demo", "--path", "idl/market"]],
  ["idl/test-descriptors.binpb", []],
];

for (const [file, paths] of SETS) {
  test(`${file} is up to date (run \`npm run idl\` after editing .proto files)`, () => {
    const out = join(mkdtempSync(join(tmpdir(), "sluice-idl-")), "d.binpb");
    const r = spawnSync(join(ROOT, "node_modules/.bin/buf"), ["build", "idl", ...paths, "-o", out], { cwd: ROOT });
    expect(r.status).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(join(ROOT, file)))).toBe(0);
  }, 60_000);
}
