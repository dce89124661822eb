// Helpers for the streaming and large-payload tests: an instrumented gRPC backend, the gateway in a
// child process (so its RSS can be measured alone), a raw HTTP/1.1 client that reads as slowly as
// told, and an incremental chunked-transfer decoder.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { demoConfig } from "../../src/demo/demo-config.ts";
import { startGateway } from "../../src/gateway.ts";
import { echoHandlers } from "../../src/demo/echo-service.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

export const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

/** byte i = i % 256, as the demo's EchoRequest.size blobs. */
export function patternBlob(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = i & 0xff;
  return b;
}

export interface CountingBackend {
  readonly port: number;
  readonly grpc: GrpcServer;
  /** EchoStream messages handed to the server so far, and calls whose signal aborted. */
  readonly stats: {
    produced: number;
    streamAborted: number;
    /** Per request text, so a test can watch its own stream while earlier tests' streams wind down. */
    producedBy: Map<string, number>;
    abortedTexts: string[];
    collectSeen: { text: string; at: number }[];
    collectDone: number[];
  };
  stop(): void;
}

/**
 * Demo handlers, except: EchoStream reuses one pattern blob per size (so the backend itself costs
 * nothing and counts every message it hands over), and Collect records when each message arrived.
 */
export async function startCountingBackend(): Promise<CountingBackend> {
  const rt = await detectRuntime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  const stats: CountingBackend["stats"] = { produced: 0, streamAborted: 0, producedBy: new Map(), abortedTexts: [], collectSeen: [], collectDone: [] };
  const blobs = new Map<number, Uint8Array>();
  const handlers = {
    ...echoHandlers({ echoCompleted: 0, echoCancelled: 0 }),
    "demo.v1.EchoService/EchoStream": async function* (req: { text: string; n: bigint; size: number; delayMs: number }, ctx: HandlerContext) {
      let blob = blobs.get(req.size);
      if (!blob) blobs.set(req.size, (blob = patternBlob(req.size)));
      const onAbort = () => {
        stats.streamAborted++;
        stats.abortedTexts.push(req.text);
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      for (let i = 0; i < Number(req.n); i++) {
        if (req.delayMs > 0) await new Promise((r) => setTimeout(r, req.delayMs));
        if (ctx.signal.aborted) return;
        stats.produced++;
        stats.producedBy.set(req.text, (stats.producedBy.get(req.text) ?? 0) + 1);
        yield { text: req.text, n: BigInt(i), blob };
      }
    },
    "demo.v1.EchoService/Collect": async (reqs: AsyncIterable<{ text: string }>) => {
      let n = 0n;
      let text = "";
      for await (const r of reqs) {
        stats.collectSeen.push({ text: r.text, at: Date.now() });
        n++;
        text += r.text;
      }
      stats.collectDone.push(Date.now());
      return { text, n };
    },
  };
  const grpc = await serveGrpc({ serveH2: rt.serveH2, hostname: "127.0.0.1", port: 0, service: { registry, handlers } });
  return { port: grpc.port, grpc, stats, stop: () => grpc.destroy() };
}

export type RuntimeName = "bun" | "node" | "deno";

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resident set size now, in bytes (Linux /proc). */
  rss(): number;
  /** What the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Sends a signal (the caller awaits `exited`). */
  signal(sig: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
  stop(): Promise<void>;
}

export function gatewayCommand(rt: RuntimeName): string[] {
  const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
  switch (rt) {
    case "node":
      // --import tsx keeps one process (the tsx CLI would fork a child and we'd measure the wrong pid).
      return ["node", "--import", "tsx", join(ROOT, "src/entry/node.ts")];
    case "deno":
      return [bin("deno"), "run", "-A", "--unstable-no-legacy-abort", join(ROOT, "src/entry/deno.ts")];
    default: {
      const bun = process.execPath.endsWith("bun") || process.execPath.endsWith("bun.exe") ? process.execPath : bin("bun");
      // e.g. SLUICE_TEST_BUN_FLAGS=--smol to see how much of the RSS is collector lag.
      const flags = (process.env.SLUICE_TEST_BUN_FLAGS ?? "").split(" ").filter(Boolean);
      return [bun, ...flags, join(ROOT, "src/entry/bun.ts")];
    }
  }
}

/** Starts `src/entry/<rt>.ts` with a config file pointing at the backend port; resolves once it listens. */
export async function startGatewayProcess(backendPort: number, o: { runtime?: RuntimeName; config?: Record<string, unknown> } = {}): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-gw-"));
  const configPath = join(dir, "gateway.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [DESCRIPTORS],
      upstreams: [{ name: "demo", endpoints: [`127.0.0.1:${backendPort}`] }],
      services: [{ match: "*", upstream: "demo" }],
      defaults: { timeout: "120s" },
      ...o.config,
    }),
  );
  const [cmd, ...args] = gatewayCommand(o.runtime ?? "bun");
  const child: ChildProcess = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, SLUICE_CONFIG: configPath }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 20 s:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /sluice listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    if (process.env.SLUICE_TEST_GW_LOG) child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  });
  const pid = child.pid!;
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    rss: () => {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return Number(m![1]) * 1024;
    },
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** Incremental decoder for Transfer-Encoding: chunked (RFC 9112 section 7.1); trailers are skipped. */
export class ChunkedDecoder {
  #state: "size" | "data" | "data-crlf" | "trailer" | "done" = "size";
  #line = "";
  #left = 0;

  get done(): boolean {
    return this.#state === "done";
  }

  push(buf: Uint8Array, onData: (payload: Uint8Array) => void): void {
    let i = 0;
    while (i < buf.length && this.#state !== "done") {
      if (this.#state === "data") {
        const n = Math.min(this.#left, buf.length - i);
        onData(buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = "data-crlf";
        continue;
      }
      const c = buf[i++]!;
      if (c === 0x0d) continue;
      if (c !== 0x0a) {
        this.#line += String.fromCharCode(c);
        continue;
      }
      const line = this.#line;
      this.#line = "";
      if (this.#state === "data-crlf") {
        this.#state = "size";
      } else if (this.#state === "size") {
        this.#left = parseInt(line.split(";")[0]!, 16);
        if (Number.isNaN(this.#left)) throw new Error(`bad chunk size line "${line}"`);
        this.#state = this.#left === 0 ? "trailer" : "data";
      } else if (this.#state === "trailer" && line === "") {
        this.#state = "done";
      }
    }
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
}

/**
 * A raw HTTP/1.1 exchange on 127.0.0.1 whose reading the caller controls (pause/resume the socket).
 * `onBody` sees the de-chunked body bytes as they arrive.
 */
export function rawRequest(port: number, head: string, body: Uint8Array | string | undefined, onBody: (b: Uint8Array) => void) {
  const sock = net.connect(port, "127.0.0.1");
  sock.setNoDelay(true);
  let headBuf = "";
  let response: RawResponse | undefined;
  let chunked: ChunkedDecoder | undefined;
  let left = Infinity;
  let resolveHead!: (r: RawResponse) => void;
  let resolveEnd!: () => void;
  let rejectAll!: (e: Error) => void;
  const headP = new Promise<RawResponse>((res, rej) => {
    resolveHead = res;
    rejectAll = rej;
  });
  const endP = new Promise<void>((res, rej) => {
    resolveEnd = res;
    headP.catch(rej);
  });
  endP.catch(() => {});
  const finish = () => resolveEnd();
  sock.on("data", (d: Buffer) => {
    let buf: Uint8Array = d;
    if (!response) {
      headBuf += d.toString("latin1");
      const at = headBuf.indexOf("\r\n\r\n");
      if (at < 0) return;
      const lines = headBuf.slice(0, at).split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const k = l.indexOf(":");
        headers[l.slice(0, k).trim().toLowerCase()] = l.slice(k + 1).trim();
      }
      response = { status: Number(lines[0]!.split(" ")[1]), headers };
      if (headers["transfer-encoding"]?.includes("chunked")) chunked = new ChunkedDecoder();
      else if (headers["content-length"] !== undefined) left = Number(headers["content-length"]);
      buf = d.subarray(at + 4 - (headBuf.length - d.length)); // latin1: one char per byte, headers may span reads
      resolveHead(response);
    }
    if (chunked) {
      chunked.push(buf, onBody);
      if (chunked.done) finish();
    } else {
      onBody(buf);
      left -= buf.length;
      if (left <= 0) finish();
    }
  });
  sock.on("error", (e) => rejectAll(e));
  sock.on("close", () => {
    if (!response) rejectAll(new Error("connection closed before a response"));
    finish();
  });
  sock.write(head);
  if (body !== undefined) sock.write(body);
  return { sock, head: headP, end: endP };
}

/** Counts '\n'-terminated lines; `last` is the first 256 bytes of the last complete line (for NDJSON bodies). */
export class LineCounter {
  lines = 0;
  bytes = 0;
  last = "";
  #prefix: number[] = [];
  push(b: Uint8Array): void {
    this.bytes += b.length;
    let start = 0;
    for (;;) {
      const nl = b.indexOf(0x0a, start);
      const end = nl < 0 ? b.length : nl;
      for (let i = start; i < end && this.#prefix.length < 256; i++) this.#prefix.push(b[i]!);
      if (nl < 0) return;
      this.lines++;
      this.last = String.fromCharCode(...this.#prefix);
      this.#prefix = [];
      start = nl + 1;
    }
  }
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface InProcessStack {
  readonly url: string;
  readonly port: number;
  readonly backend: CountingBackend;
  stop(): Promise<void>;
}

/** The counting backend and the gateway in this process (demo config, optionally tweaked). */
export async function startCountingStack(tweak?: (c: ConfigInput) => ConfigInput): Promise<InProcessStack> {
  const rt = await detectRuntime();
  const backend = await startCountingBackend();
  let input = demoConfig({ port: 0, host: "127.0.0.1", descriptorPath: DESCRIPTORS, backendPort: backend.port, protocol: "grpc" });
  if (tweak) input = tweak(input);
  const gw = await startGateway({ config: parseConfig(input), runtime: rt });
  return {
    url: gw.url,
    port: gw.port,
    backend,
    stop: async () => {
      await gw.stop();
      backend.stop();
    },
  };
}

/** base64 -> bytes, and whether they are the i % 256 pattern of the given length. */
export function isPattern(b64: string, size: number): boolean {
  const bin = atob(b64);
  if (bin.length !== size) return false;
  for (let i = 0; i < size; i++) if (bin.charCodeAt(i) !== (i & 0xff)) return false;
  return true;
}
