// upstreams[].maxHeaderBytes reaches the TTHeader connections: a reply whose header block is over it fails
// that connection's calls with a protocol error naming the sizes, while the same reply under the default
// limit is accepted. Real loopback sockets; the server answers every request with a 4000-byte header.
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../config/index.ts";
import { GatewayError } from "../core/index.ts";
import { decodePayload, encodeMessageFrame, FrameDecoder, MessageType } from "../protocol/ttheader/index.ts";
import { detectRuntime, type Runtime } from "../runtime/index.ts";
import { listenTcp } from "../runtime/shared/node-net.ts";
import type { TcpServerHandle } from "../runtime/types.ts";
import { buildUpstream, type BuiltUpstream } from "./upstreams.ts";

const ECHO = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };
const BIG = "x".repeat(4000);
const servers: TcpServerHandle[] = [];
const built: BuiltUpstream[] = [];

afterAll(async () => {
  for (const b of built) b.group.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

/** Replies to every call with its own body and one 4000-byte string header. */
async function bigHeaderServer(): Promise<TcpServerHandle> {
  const server = await listenTcp({ hostname: "127.0.0.1", port: 0 }, (sock) => {
    const d = new FrameDecoder();
    return {
      data(chunk) {
        for (const frame of d.push(chunk).frames) {
          const m = decodePayload(frame.payload);
          if (!m.ok) throw m.error;
          sock.write(
            encodeMessageFrame(
              { seqId: frame.seqId, strHeaders: new Map([["big", BIG]]), intHeaders: new Map([[22, "2"]]) },
              { codec: "kitex-protobuf", framed: true, type: MessageType.reply, method: m.value.method, seqId: m.value.seqId, body: m.value.body },
            ),
          );
        }
      },
      drain() {},
      close() {},
    };
  });
  servers.push(server);
  return server;
}

function upstream(rt: Runtime, port: number, mode: "mux" | "pool", extra: Record<string, unknown>): BuiltUpstream {
  const config = parseConfig({
    descriptors: ["x.binpb"],
    upstreams: [{ name: "tt", protocol: "ttheader", mode, endpoints: [`127.0.0.1:${port}`], breaker: false, outlier: false, ...extra }],
    services: [{ match: "*", upstream: "tt" }],
  });
  const b = buildUpstream(config.upstreams[0]!, { runtime: rt });
  built.push(b);
  return b;
}

const call = (b: BuiltUpstream) => b.group.unary(new Uint8Array([10, 2, 104, 105]), { method: ECHO, deadline: Date.now() + 5000 });

describe("upstreams[].maxHeaderBytes (TTHeader)", () => {
  test("config: default 65532, sizes accepted, out-of-range refused", () => {
    const parse = (extra: Record<string, unknown>) =>
      parseConfig({ descriptors: ["x"], upstreams: [{ name: "tt", protocol: "ttheader", endpoints: ["127.0.0.1:1"], ...extra }], services: [{ match: "*", upstream: "tt" }] }).upstreams[0]!.maxHeaderBytes;
    expect(parse({})).toBe(65532);
    expect(parse({ maxHeaderBytes: "16KiB" })).toBe(16384);
    expect(() => parse({ maxHeaderBytes: 65535 * 4 + 4 })).toThrow(/maxHeaderBytes/);
  });

  for (const mode of ["mux", "pool"] as const) {
    test(`${mode}: a reply header over the limit fails the call with a clear protocol error; under the default it passes`, async () => {
      const rt = await detectRuntime();
      const server = await bigHeaderServer();
      const ok = await call(upstream(rt, server.port, mode, {}));
      expect([...ok.message]).toEqual([10, 2, 104, 105]);

      const limited = upstream(rt, server.port, mode, { maxHeaderBytes: 1024 });
      let err: unknown;
      try {
        await call(limited);
      } catch (e) {
        err = e;
      }
      expect(GatewayError.is(err)).toBe(true);
      const g = err as GatewayError;
      expect(g.reason).toBe("upstream_protocol_error");
      expect(g.message).toMatch(/header of \d+ bytes exceeds the limit of 1024 bytes/);
    }, 15_000);
  }
});
