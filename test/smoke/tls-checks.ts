// TLS upstream checks for the per-runtime smoke test (smoke.ts): a @grpc/grpc-js server in this runtime
// that requires a client certificate, certificates made with the openssl CLI, and the gateway's
// node:http2 client on this runtime's TLS stack. Needs `openssl` on PATH.
import { readdirSync } from "node:fs";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { demoDescriptorPath } from "../../src/demo/demo-backend.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import type { Runtime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsTlsServer } from "../helpers/grpc-js-tls-server.ts";
import { makeTestPki } from "../helpers/tls-certs.ts";

type Check = (name: string, fn: () => Promise<void>) => Promise<void>;
type Eq = (actual: unknown, expected: unknown) => void;

export async function tlsChecks(rt: Runtime, check: Check, eq: Eq): Promise<void> {
  let pki: ReturnType<typeof makeTestPki>;
  try {
    pki = makeTestPki();
  } catch (e) {
    await check(`${rt.name}: TLS test certificates (openssl CLI)`, () => Promise.reject(e));
    return;
  }
  const descriptorPath = demoDescriptorPath();
  const registry = registryFromDescriptorSets([await rt.readFile(descriptorPath)]);
  const server = await startGrpcJsTlsServer(
    registry,
    {
      "demo.v1.EchoService": {
        // Echoes the client certificate's CN, so the check sees that mutual TLS really happened.
        Echo: (call: any, cb: any) => cb(null, { text: `${call.request.text}:${call.getAuthContext().sslPeerCertificate?.subject?.CN}`, n: call.request.n }),
        EchoStream: (call: any) => {
          for (let i = 0; i < Number(call.request.n); i++) call.write({ text: `${call.request.text}${i}` });
          call.end();
        },
      },
    },
    { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca, requireClientCert: true },
  );
  const gateway = (tls: NonNullable<ConfigInput["upstreams"][number]["tls"]>): Promise<Gateway> =>
    startGateway({
      config: parseConfig({
        listen: { host: "127.0.0.1", port: 0 },
        descriptors: [descriptorPath],
        upstreams: [{ name: "tls", endpoints: [`127.0.0.1:${server.port}`], tls, connectTimeout: "5s" }],
        services: [{ match: "demo.v1.*", upstream: "tls" }],
        logging: { level: "error", accessLog: false },
      }),
      runtime: rt,
    });
  const post = (gw: Gateway, method: string, body: unknown) => fetch(`${gw.url}/demo.v1.EchoService/${method}`, { method: "POST", body: JSON.stringify(body) });
  const endpoint = `127.0.0.1:${server.port}`;
  try {
    const mutual = await gateway({ caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile });
    try {
      await check(`${rt.name}: unary over mutual TLS (caFile, certFile, keyFile)`, async () => {
        const res = await post(mutual, "Echo", { text: "tls", n: "1" });
        eq(res.status, 200);
        eq(await res.json(), { text: "tls:sluice-gateway", n: "1" });
      });
      await check(`${rt.name}: server streaming over mutual TLS`, async () => {
        const res = await post(mutual, "EchoStream", { text: "t", n: 3 });
        eq(res.status, 200);
        eq((await res.text()).trim().split("\n").map((l) => JSON.parse(l).text), ["t0", "t1", "t2"]);
      });
    } finally {
      await mutual.stop({ timeoutMs: 2_000 });
    }
    const failures: [string, ConfigInput["upstreams"][number]["tls"], string][] = [
      ["system roots only", {}, "certificate is not signed by a trusted CA"],
      ["no client certificate", { caFile: pki.caFile }, "requires a client certificate"],
    ];
    for (const [what, tls, why] of failures) {
      const gw = await gateway(tls!);
      try {
        await check(`${rt.name}: TLS failure (${what}) is a 503 naming the endpoint and the cause`, async () => {
          const res = await post(gw, "Echo", { text: "x" });
          const body = await res.json();
          eq([res.status, body.code, body.reason], [503, "UNAVAILABLE", "upstream_connect_failed"]);
          for (const part of [endpoint, "TLS handshake failed", why]) {
            if (!String(body.message).includes(part)) throw new Error(`message lacks "${part}": ${body.message}`);
          }
        });
      } finally {
        await gw.stop({ timeoutMs: 2_000 });
      }
    }
    await check(`${rt.name}: refused TLS sessions release their sockets (no fd leak)`, async () => {
      // Node 20 never closed the socket of a session refused after the handshake (client certificate
      // missing under TLS 1.3): one file descriptor per re-dial. Linux only (/proc/self/fd).
      const fds = openFds();
      if (fds === undefined) return;
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          rt.openH2Session({
            authority: `https://${endpoint}`,
            connectTimeoutMs: 5_000,
            tls: { ca: pki.ca },
            events: { goaway: () => {}, remoteSettings: () => {}, close: () => resolve() },
          });
        });
      }
      await new Promise((r) => setTimeout(r, 200));
      const grown = openFds()! - fds;
      if (grown >= 10) throw new Error(`${grown} more open file descriptors after 20 refused sessions`);
    });
  } finally {
    await server.stop();
    pki.remove();
  }
}

function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}
