// resolveDns against a real DNS server on loopback (fake-dns-server.ts), through the runtime's node:dns.
// Bun runs it here; Node (tsx) and Deno run the same checks in a child process (their node:dns differs:
// error codes for NODATA, query caching), so all three runtimes are covered by `bun test`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startFakeDnsServer, type FakeDnsServer } from "./fake-dns-server.ts";
import { resolveDns } from "./node-dns.ts";

let server: FakeDnsServer;
beforeAll(async () => {
  server = await startFakeDnsServer();
});
afterAll(async () => {
  await server.close();
});

const sorted = <T extends { address: string }>(xs: T[]) => [...xs].sort((a, b) => a.address.localeCompare(b.address));

describe("resolveDns", () => {
  test("A and AAAA records come back with their TTLs", async () => {
    server.set("both.test", { a: ["10.1.0.2", "10.1.0.1"], aaaa: ["fd00::7"], ttl: 42 });
    const got = await resolveDns("both.test", { servers: [server.address] });
    expect(sorted(got)).toEqual([
      { address: "10.1.0.1", family: 4, ttl: 42 },
      { address: "10.1.0.2", family: 4, ttl: 42 },
      { address: "fd00::7", family: 6, ttl: 42 },
    ]);
    // Both families were asked for.
    const asked = server.queries.filter((q) => q.name === "both.test").map((q) => q.type).sort();
    expect(asked).toEqual(["A", "AAAA"]);
  });

  test("a name with only A records (AAAA is NODATA) is still an answer", async () => {
    server.set("v4only.test", { a: ["10.1.0.3"], ttl: 3 });
    expect(await resolveDns("v4only.test", { servers: [server.address] })).toEqual([{ address: "10.1.0.3", family: 4, ttl: 3 }]);
  });

  test("a changed answer is seen on the next call (Bun's per-resolver query cache is not in the way)", async () => {
    server.set("moving.test", { a: ["10.1.0.4"], ttl: 60 });
    expect((await resolveDns("moving.test", { servers: [server.address] })).map((a) => a.address)).toEqual(["10.1.0.4"]);
    server.set("moving.test", { a: ["10.1.0.5"], ttl: 60 });
    expect((await resolveDns("moving.test", { servers: [server.address] })).map((a) => a.address)).toEqual(["10.1.0.5"]);
  });

  test("with chosen servers, an unknown name is an error (no silent system fallback)", async () => {
    const e = await resolveDns("unknown.test", { servers: [server.address] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(String((e as { code?: string }).code)).toMatch(/ENOTFOUND|ENODATA/);
  });

  test("IP literals come back as they are, without a query and without TTL", async () => {
    const before = server.queries.length;
    expect(await resolveDns("10.9.8.7", { servers: [server.address] })).toEqual([{ address: "10.9.8.7", family: 4 }]);
    expect(await resolveDns("[::1]")).toEqual([{ address: "::1", family: 6 }]);
    expect(server.queries.length).toBe(before);
  });

  test("localhost goes to the system lookup (RFC 6761), without TTL", async () => {
    const got = await resolveDns("localhost");
    expect(got.length).toBeGreaterThan(0);
    for (const a of got) {
      expect(a.address === "127.0.0.1" || a.address === "::1").toBe(true);
      expect(a.ttl).toBeUndefined();
    }
  });
});

// The same probe in another runtime: start the loopback server there, resolve, print JSON.
const ROOT = join(import.meta.dir, "..", "..", "..");
const PROBE = `(async () => {
  const { startFakeDnsServer } = await import("./src/runtime/shared/fake-dns-server.ts");
  const { resolveDns } = await import("./src/runtime/shared/node-dns.ts");
  const s = await startFakeDnsServer();
  const servers = [s.address];
  s.set("both.test", { a: ["10.4.0.1"], aaaa: ["fd00::4"], ttl: 9 });
  s.set("v4.test", { a: ["10.4.0.2"], ttl: 2 });
  const out = { both: await resolveDns("both.test", { servers }), v4: await resolveDns("v4.test", { servers }) };
  s.set("v4.test", { a: ["10.4.0.3"], ttl: 2 });
  out.changed = await resolveDns("v4.test", { servers });
  out.missing = await resolveDns("missing.test", { servers }).then(() => "resolved", (e) => e.code);
  out.literal = await resolveDns("10.4.0.9");
  await s.close();
  console.log("PROBE " + JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });`;

function runProbe(cmd: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args, PROBE], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.split("\n").find((l) => l.startsWith("PROBE "));
      if (!line) return reject(new Error(`${cmd}: no probe output (${err?.message ?? ""}) ${stderr.slice(-500)}`));
      resolve(JSON.parse(line.slice("PROBE ".length)) as Record<string, unknown>);
    });
  });
}

const runtimes = [
  { name: "node (tsx)", bin: join(ROOT, "node_modules", ".bin", "tsx"), args: ["--eval"] },
  { name: "deno", bin: join(ROOT, "node_modules", ".bin", "deno"), args: ["eval"] },
];
for (const r of runtimes) {
  test.if(existsSync(r.bin))(`${r.name}: TTLs, both families, fresh answers, errors and literals`, async () => {
    const out = await runProbe(r.bin, r.args);
    expect(out.both).toEqual([{ address: "10.4.0.1", family: 4, ttl: 9 }, { address: "fd00::4", family: 6, ttl: 9 }]);
    expect(out.v4).toEqual([{ address: "10.4.0.2", family: 4, ttl: 2 }]);
    expect(out.changed).toEqual([{ address: "10.4.0.3", family: 4, ttl: 2 }]);
    expect(String(out.missing)).toMatch(/ENOTFOUND|ENODATA/);
    expect(out.literal).toEqual([{ address: "10.4.0.9", family: 4 }]);
  }, 90_000);
}
