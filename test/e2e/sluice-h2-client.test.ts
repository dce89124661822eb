// Key gRPC end-to-end scenarios with upstreams[].http2Client = "sluice" set in the config: the gateway's
// gRPC upstream runs on our own HTTP/2 client (src/protocol/h2) instead of the runtime's node:http2.
// (The fault suites hard-kill, client-disconnect and rolling-restart run it too, as protocol "grpc-sluice".)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import { detectRuntime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { adminUpstream, countAttemptErrors, startFaultGateway } from "../helpers/fault-gateway.ts";
import { sleepMs, startLoad } from "../helpers/fault-load.ts";
import { serviceDefinition, startGrpcJsServer } from "../helpers/grpc-js-server.ts";
import { startPeer } from "../helpers/h2-peer.ts";
import { FrameType } from "../../src/protocol/h2/index.ts";
import { DESCRIPTORS, postJson, quietLogger, startDemoStack, TEST_DESCRIPTORS, type Stack } from "../helpers/stack.ts";
import { LineCounter, rawRequest, startCountingBackend, startGatewayProcess, type CountingBackend, type GatewayProcess } from "./streaming-kit.ts";

const sluice = (c: ConfigInput): ConfigInput => ({ ...c, upstreams: c.upstreams.map((u) => ({ ...u, http2Client: "sluice" as const })) });

describe("the switch", () => {
  /** The gateway's first frames to a raw HTTP/2 peer, with http2Client set as given. */
  async function firstFrames(http2Client: "sluice" | "runtime"): Promise<{ settings: number[]; windowUpdate: number[] | undefined }> {
    const peer = await startPeer((c) => c.settings([]));
    const gw = await startFaultGateway({ upstream: { name: "demo", http2Client, endpoints: [`127.0.0.1:${peer.port}`], pool: { minConnections: 1 } } });
    try {
      const end = Date.now() + 5000;
      while (!peer.conns[0]?.frames.some((f) => f.type === FrameType.SETTINGS) && Date.now() < end) await sleepMs(10);
      const frames = peer.conns[0]!.frames;
      const wu = frames.find((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
      return { settings: [...frames.find((f) => f.type === FrameType.SETTINGS)!.payload], windowUpdate: wu && [...wu.payload] };
    } finally {
      await gw.stop();
      await peer.close();
    }
  }

  test("http2Client: sluice puts our client on the wire (its SETTINGS and connection window); runtime does not", async () => {
    // ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 4 MiB, MAX_HEADER_LIST_SIZE 1 MiB; then +16 MiB - 65535 on the connection.
    const ours = [0, 2, 0, 0, 0, 0, 0, 4, 0, 0x40, 0, 0, 0, 6, 0, 0x10, 0, 0];
    const s = await firstFrames("sluice");
    expect(s.settings).toEqual(ours);
    expect(s.windowUpdate).toEqual([0, 0xff, 0, 1]);
    const r = await firstFrames("runtime");
    expect(r.settings.length).toBeGreaterThan(0);
    expect(r.settings).not.toEqual(ours);
  });
});

describe("demo backend through the gateway, sluice HTTP/2 client", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startDemoStack({ tweak: sluice });
  });
  afterAll(async () => {
    await s.stop();
  });

  test("the config switch is in effect: parsed, and the connection serves calls", async () => {
    expect(s.gw.config.upstreams[0]!.http2Client).toBe("sluice");
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: "héllo", n: "9007199254740993", blob: "AAEC/w==" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ text: "héllo", n: "9007199254740993", blob: "AAEC/w==" });
  });

  test("REST mapping, many concurrent calls on one connection", async () => {
    const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => postJson(`${s.url}/v1/echo`, { text: `c${i}` })));
    expect(rs.every((r, i) => r.status === 200 && r.json.text === `c${i}`)).toBe(true);
    const u = await fetch(`${s.url}/admin/upstreams`).then((r) => r.json() as Promise<{ upstreams: { endpoints: { opened: number }[] }[] }>);
    expect(u.upstreams[0]!.endpoints[0]!.opened).toBeGreaterThanOrEqual(1);
  });

  test("server streaming (NDJSON) with large messages arrives whole and in order", async () => {
    const res = await fetch(`${s.url}/v1/echo:stream`, { method: "POST", body: JSON.stringify({ text: "s", n: 20, size: 100_000 }) });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => l.n ?? "0")).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(atob(lines[19].blob).length).toBe(100_000);
  });

  test("client streaming (NDJSON lines -> Collect)", async () => {
    const body = Array.from({ length: 500 }, (_, i) => JSON.stringify({ text: String(i % 10) })).join("\n");
    const res = await fetch(`${s.url}/v1/echo:collect`, { method: "POST", body, headers: { "content-type": "application/x-ndjson" } });
    expect(res.status).toBe(200);
    const reply = await res.json();
    expect(reply.n).toBe("500");
    expect(reply.text.length).toBe(500);
  });

  test("a 16 MiB reply arrives intact", async () => {
    const size = 16 * 1024 * 1024;
    const res = await fetch(`${s.url}/v1/echo`, { method: "POST", body: JSON.stringify({ text: "big", size }) });
    expect(res.status).toBe(200);
    const json = await res.json();
    const bytes = Uint8Array.from(atob(json.blob), (c) => c.charCodeAt(0));
    expect(bytes.length).toBe(size);
    let ok = true;
    for (let i = 0; i < size; i += 4093) if (bytes[i] !== i % 256) ok = false;
    expect(ok).toBe(true);
  }, 30_000);

  test("a deadline: 504 DEADLINE_EXCEEDED, and the backend's call ends early (our RST_STREAM or its own grpc-timeout)", async () => {
    const before = s.backend.stats.echoCancelled;
    const r = await postJson(`${s.url}/demo.v1.EchoService/Echo`, { text: "late", delayMs: 2000 }, { "x-sluice-timeout": "200ms" });
    expect(r.status).toBe(504);
    expect(r.json.code).toBe("DEADLINE_EXCEEDED");
    const end = Date.now() + 3000;
    while (s.backend.stats.echoCancelled === before && Date.now() < end) await sleepMs(10);
    expect(s.backend.stats.echoCancelled).toBeGreaterThan(before);
  });
});

describe("grpc-js backend through the gateway, sluice HTTP/2 client", () => {
  let gw: Gateway;
  let backend: Awaited<ReturnType<typeof startGrpcJsServer>>;
  beforeAll(async () => {
    const rt = await detectRuntime();
    const registry = registryFromDescriptorSets([await rt.readFile(TEST_DESCRIPTORS)]);
    const statusDesc = registry.getMessage("google.rpc.Status")!;
    backend = await startGrpcJsServer(registry, {
      "testdata.v1.MappingService": {
        Roundtrip: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
          if (call.request.tags?.[0] === "fail") {
            const md = new grpc.Metadata();
            md.set("grpc-status-details-bin", Buffer.from(toBinary(statusDesc, create(statusDesc, { code: 9, message: "precondition" }))));
            return cb({ code: grpc.status.FAILED_PRECONDITION, details: "precondition failed: stock", metadata: md });
          }
          cb(null, call.request);
        },
      },
    });
    const config = parseConfig({
      listen: { host: "127.0.0.1", port: 0 },
      descriptors: [TEST_DESCRIPTORS],
      upstreams: [{ name: "grpcjs", protocol: "grpc", http2Client: "sluice", endpoints: [`127.0.0.1:${backend.port}`] }],
      services: [{ match: "testdata.v1.*", upstream: "grpcjs" }],
    });
    gw = await startGateway({ config, runtime: rt, logger: quietLogger() });
  });
  afterAll(async () => {
    await gw.stop();
    backend.server.forceShutdown();
  });

  test("JSON mapping round-trips through grpc-js", async () => {
    const input = { i64: "-9223372036854775808", tags: ["a", "b"], inner: { name: "n", values: [1, 2, 3] }, at: "2024-02-29T12:34:56.789Z", meta: { k: [1, "two", null] } };
    const r = await postJson(`${gw.url}/testdata.v1.MappingService/Roundtrip`, input);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(input);
  });

  test("a grpc-js status with details becomes the HTTP error", async () => {
    const r = await postJson(`${gw.url}/testdata.v1.MappingService/Roundtrip`, { tags: ["fail"] });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("FAILED_PRECONDITION");
    expect(r.json.message).toBe("precondition failed: stock");
  });
});

describe("GOAWAY drain, sluice HTTP/2 client", () => {
  let server: grpc.Server;
  let gw: Gateway;
  afterAll(async () => {
    await gw?.stop();
    server?.forceShutdown();
  });

  test("grpc-js with max connection age 300 ms under load: zero failures, new sessions after each GOAWAY", async () => {
    const rt = await detectRuntime();
    const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
    server = new grpc.Server({ "grpc.max_connection_age_ms": 300, "grpc.max_connection_age_grace_ms": 5_000 });
    const peers = new Set<string>();
    let completed = 0;
    server.addService(serviceDefinition(registry.getService("demo.v1.EchoService")!), {
      Echo: (c: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        peers.add(c.getPeer());
        setTimeout(() => {
          completed++;
          cb(null, { text: c.request.text });
        }, c.request.delayMs);
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    gw = await startFaultGateway({ upstream: { name: "demo", http2Client: "sluice", endpoints: [`127.0.0.1:${port}`] } });
    const attemptErrors = countAttemptErrors(gw, "demo");
    const load = startLoad({ url: `${gw.url}/demo.v1.EchoService/Echo`, body: (i) => ({ text: `g${i}`, delayMs: 150 }), concurrency: 8 });
    await sleepMs(1_500);
    const r = await load.stop();
    const pool = (await adminUpstream(gw, "demo")).endpoints[0]!;
    console.log(`goaway/sluice: ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failures)}; sessions ${peers.size}, opened ${pool.opened}; failed attempts ${JSON.stringify(attemptErrors)}`);
    expect(r.failed).toBe(0);
    expect(r.ok).toBe(completed);
    expect(peers.size).toBeGreaterThanOrEqual(3);
    expect(pool.opened).toBe(peers.size);
  }, 15_000);
});

describe("back-pressure through a gateway process, sluice HTTP/2 client", () => {
  let backend: CountingBackend;
  let gw: GatewayProcess;
  beforeAll(async () => {
    backend = await startCountingBackend();
    gw = await startGatewayProcess(backend.port, {
      config: { upstreams: [{ name: "demo", http2Client: "sluice", endpoints: [`127.0.0.1:${backend.port}`] }] },
    });
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
    backend?.stop();
  });

  test("a client that stops reading stops the backend within a bound; then the whole stream arrives", async () => {
    const MESSAGES = 2048;
    const SIZE = 64 * 1024;
    const LAG_BOUND = 1024; // the same bound as streaming-backpressure.test.ts (64 MiB of payload)
    const producedBefore = backend.stats.produced;
    const produced = () => backend.stats.produced - producedBefore;
    const body = JSON.stringify({ text: "m", n: MESSAGES, size: SIZE });
    const lines = new LineCounter();
    const conn = rawRequest(gw.port, `POST /v1/echo:stream HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, body, (b) => lines.push(b));
    expect((await conn.head).status).toBe(200);
    while (lines.lines < 20) await sleepMs(5);
    conn.sock.pause();
    let last = -1;
    for (;;) {
      await sleepMs(500);
      if (produced() === last) break;
      last = produced();
    }
    const lag = produced() - lines.lines;
    console.log(`[backpressure/sluice] backend ahead by ${lag} messages while the client reads nothing`);
    expect(produced()).toBeLessThan(MESSAGES);
    expect(lag).toBeLessThanOrEqual(LAG_BOUND);
    conn.sock.resume();
    await conn.end;
    conn.sock.destroy();
    expect(lines.lines).toBe(MESSAGES);
    expect(produced()).toBe(MESSAGES);
  }, 60_000);
});
