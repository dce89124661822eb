// TCP keepalive under our HTTP/2 client sessions, checked in the kernel's own view of the socket: in
// /proc/net/tcp an idle ESTABLISHED socket with SO_KEEPALIVE has its keepalive timer armed ("tr" = 2), one
// without has no timer (0). Bun runs it here; Node (tsx) and Deno in a child process, since node:http2
// hands out a socket proxy that refuses setKeepAlive on all three.
import { describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..", "..");
const LINUX = existsSync("/proc/net/tcp");

/** The probe: opens a session to a local h2c server with and without keepalive, prints each client socket's timer. */
const PROBE = `(async () => {
const { default: http2 } = await import("node:http2");
const { readFileSync } = await import("node:fs");
const { openH2Session } = await import("./src/runtime/shared/node-http2.ts");
const server = http2.createServer();
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
const hex = (n) => n.toString(16).toUpperCase().padStart(4, "0");
function timers() {
  // Client-side rows: remote address 127.0.0.1:port, state 01 (ESTABLISHED); field 5 is "tr:when".
  const rows = readFileSync("/proc/net/tcp", "utf8").split("\\n").slice(1).map((l) => l.trim().split(/\\s+/));
  return rows.filter((f) => f[2] === "0100007F:" + hex(port) && f[3] === "01").map((f) => Number(f[5].split(":")[0]));
}
const out = {};
for (const [name, ms] of [["off", 0], ["on", 10_000]]) {
  const s = openH2Session({ authority: "http://127.0.0.1:" + port, tcpKeepAliveMs: ms, events: { goaway() {}, close() {}, remoteSettings() {} } });
  await s.ready;
  await new Promise((r) => setTimeout(r, 50));
  out[name] = timers();
  s.destroy();
  await new Promise((r) => setTimeout(r, 50));
}
server.close();
console.log("PROBE " + JSON.stringify(out));
process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });`;

function runProbe(cmd: string, args: string[]): Promise<{ on: number[]; off: number[] }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args, PROBE], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const line = stdout.split("\n").find((l) => l.startsWith("PROBE "));
      if (!line) return reject(new Error(`${cmd}: no probe output (${err?.message ?? ""}) ${stderr.slice(-500)}`));
      resolve(JSON.parse(line.slice("PROBE ".length)));
    });
  });
}

const runtimes = [
  { name: "bun", bin: process.execPath, args: ["--eval"] },
  { name: "node (tsx)", bin: join(ROOT, "node_modules", ".bin", "tsx"), args: ["--eval"] },
  { name: "deno", bin: join(ROOT, "node_modules", ".bin", "deno"), args: ["eval"] },
];

describe("HTTP/2 client sessions: TCP keepalive", () => {
  for (const r of runtimes) {
    test.if(LINUX && existsSync(r.bin))(`${r.name}: tcpKeepAliveMs arms the socket's keepalive timer, 0 leaves it off`, async () => {
      const out = await runProbe(r.bin, r.args);
      expect(out.off).toEqual([0]);
      expect(out.on).toEqual([2]);
    }, 90_000);
  }
});

test("the probe reads the table it means to", () => {
  if (LINUX) expect(readFileSync("/proc/net/tcp", "utf8").split("\n")[0]).toContain("tx_queue rx_queue tr tm->when");
});
