// A call's deadline runs from when the gateway received the request, not from when its body finished
// arriving: time spent uploading the body is part of the budget, so the remaining time sent upstream
// (grpc-timeout) and the gateway's own timer are both shorter by it. Route timeout 1 s, a client that
// takes ~600 ms to send the body, a backend that would take 600 ms: 504 at about 1 s, and the backend
// was given at most ~400 ms.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { serveGrpc, type GrpcServer, type HandlerContext } from "../../src/backend/index.ts";
import { sleep } from "../../src/core/index.ts";
import type { Gateway } from "../../src/gateway.ts";
import { parseGrpcTimeout } from "../../src/protocol/grpc/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime, startFaultGateway } from "../helpers/fault-gateway.ts";
import { DESCRIPTORS } from "../helpers/stack.ts";

interface Seen {
  readonly text: string;
  readonly grpcTimeoutMs: number | undefined;
  aborted: boolean;
}
const seen: Seen[] = [];
let server: GrpcServer;
let gw: Gateway;

beforeAll(async () => {
  const rt = await runtime();
  server = await serveGrpc({
    serveH2: rt.serveH2,
    hostname: "127.0.0.1",
    port: 0,
    service: {
      registry: registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]),
      handlers: {
        "demo.v1.EchoService/Echo": async (req: { text: string; delayMs: number }, ctx: HandlerContext) => {
          const raw = ctx.metadata["grpc-timeout"];
          const s: Seen = { text: req.text, grpcTimeoutMs: raw === undefined ? undefined : parseGrpcTimeout(raw), aborted: false };
          seen.push(s);
          try {
            await sleep(req.delayMs, ctx.signal);
          } catch (e) {
            s.aborted = true;
            throw e;
          }
          return { text: req.text };
        },
      },
    },
  });
  gw = await startFaultGateway({
    upstream: { name: "demo", endpoints: [`127.0.0.1:${server.port}`] },
    routes: [{ method: "demo.v1.EchoService/Echo", timeout: "1s" }],
  });
});

afterAll(async () => {
  await gw.stop();
  server.destroy();
});

/** Sends the head and the first half of the body, the rest `gapMs` later; resolves with the status line and when it came. */
function slowUpload(body: string, gapMs: number): Promise<{ status: number; text: string; ms: number }> {
  const sock = net.connect(gw.port, "127.0.0.1");
  sock.setNoDelay(true);
  const half = Math.floor(body.length / 2);
  let got = "";
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer in 10 s; got ${JSON.stringify(got)}`));
    }, 10_000);
    sock.on("error", reject);
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const at = got.indexOf("\r\n\r\n");
      const len = /content-length: (\d+)/i.exec(got)?.[1];
      if (at < 0 || len === undefined || got.length < at + 4 + Number(len)) return;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status: Number(got.split(" ")[1]), text: got.slice(at + 4), ms: performance.now() - t0 });
    });
    sock.write(`POST /demo.v1.EchoService/Echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, half)}`);
    setTimeout(() => sock.write(body.slice(half)), gapMs);
  });
}

describe("the deadline counts from the request's arrival", () => {
  test("route timeout 1 s, ~600 ms to upload the body, a 600 ms backend: 504 at about 1 s; the backend got <= ~400 ms", async () => {
    const r = await slowUpload(JSON.stringify({ text: "slow-upload", delayMs: 600 }), 600);
    const s = seen.find((x) => x.text === "slow-upload");
    console.log(`deadline from receipt: ${r.status} after ${Math.round(r.ms)} ms; backend grpc-timeout ${s?.grpcTimeoutMs} ms`);
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text).code).toBe("DEADLINE_EXCEEDED");
    // Not before the 1 s deadline, and not 1 s after the body (which would be ~1.6 s).
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(1_500);
    expect(s).toBeDefined();
    // 1 s minus the ~600 ms upload, with room for a slow machine; it was ~1000 ms when counted from the body's end.
    expect(s!.grpcTimeoutMs).toBeGreaterThan(0);
    expect(s!.grpcTimeoutMs).toBeLessThan(550);
  });

  test("the same upload with a fast backend still succeeds within the deadline", async () => {
    const r = await slowUpload(JSON.stringify({ text: "slow-upload-fast-backend", delayMs: 0 }), 600);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).text).toBe("slow-upload-fast-backend");
    expect(seen.find((x) => x.text === "slow-upload-fast-backend")!.grpcTimeoutMs).toBeLessThan(550);
  });
});
