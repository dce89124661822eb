// gRPC upstreams over TLS against a real @grpc/grpc-js server (grpc.ServerCredentials.createSsl), with
// certificates made at test time by the openssl CLI: trust via ca/caFile, system roots (fails), no
// verification, a servername override, mutual TLS, and server streaming. Failures must be 503 UNAVAILABLE
// naming the endpoint and saying TLS/certificate, without the gateway spinning on re-dials.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import type * as grpc from "@grpc/grpc-js";
import { parseConfig, type ConfigInput } from "../../src/config/index.ts";
import { startGateway, type Gateway } from "../../src/gateway.ts";
import type { LookupFn } from "../../src/discovery/index.ts";
import { detectRuntime, type Runtime } from "../../src/runtime/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { startGrpcJsTlsServer, type GrpcJsTlsServer } from "../helpers/grpc-js-tls-server.ts";
import { DESCRIPTORS, getJson, postJson, quietLogger } from "../helpers/stack.ts";
import { makeTestPki, type TestPki } from "../helpers/tls-certs.ts";

type UpstreamInput = ConfigInput["upstreams"][number];

let rt: Runtime;
let pki: TestPki;
/** Server certificate for 127.0.0.1/localhost, no client certificates asked. */
let plain: GrpcJsTlsServer;
/** Certificate issued only for backend.test. */
let named: GrpcJsTlsServer;
/** Requires a client certificate signed by our CA. */
let mutual: GrpcJsTlsServer;
/** Subject CN of the client certificate each call to `mutual` came with. */
const clientNames: string[] = [];

function echoService(onCall?: (call: grpc.ServerUnaryCall<any, any> | grpc.ServerWritableStream<any, any>) => void) {
  return {
    "demo.v1.EchoService": {
      Echo: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        onCall?.(call);
        cb(null, { text: call.request.text, n: call.request.n });
      },
      EchoStream: (call: grpc.ServerWritableStream<any, any>) => {
        onCall?.(call);
        for (let i = 0; i < Number(call.request.n); i++) call.write({ text: `${call.request.text}${i}`, n: BigInt(i) });
        call.end();
      },
    },
  };
}

beforeAll(async () => {
  rt = await detectRuntime();
  pki = makeTestPki();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  plain = await startGrpcJsTlsServer(registry, echoService(), { cert: pki.server.cert, key: pki.server.key });
  named = await startGrpcJsTlsServer(registry, echoService(), { cert: pki.serverBackendTest.cert, key: pki.serverBackendTest.key });
  mutual = await startGrpcJsTlsServer(
    registry,
    echoService((call) => clientNames.push(String(call.getAuthContext().sslPeerCertificate?.subject?.CN ?? "(none)"))),
    { cert: pki.server.cert, key: pki.server.key, clientCa: pki.ca, requireClientCert: true },
  );
}, 30_000);

afterAll(async () => {
  await Promise.all([plain?.stop(), named?.stop(), mutual?.stop()]);
  pki?.remove();
});

async function withGateway(port: number, upstream: Partial<UpstreamInput>, fn: (gw: Gateway) => Promise<void>, lookup?: LookupFn): Promise<void> {
  const config = parseConfig({
    listen: { host: "127.0.0.1", port: 0 },
    descriptors: [DESCRIPTORS],
    upstreams: [{ name: "secure", protocol: "grpc", endpoints: [`127.0.0.1:${port}`], connectTimeout: "5s", ...upstream }],
    services: [{ match: "demo.v1.*", upstream: "secure" }],
  });
  const gw = await startGateway({ config, runtime: rt, logger: quietLogger(), ...(lookup ? { lookup } : {}) });
  try {
    await fn(gw);
  } finally {
    await gw.stop({ timeoutMs: 2_000 });
  }
}

const echo = (gw: Gateway, text = "hi") => postJson(`${gw.url}/demo.v1.EchoService/Echo`, { text, n: "7" });

/** The 503 a TLS failure must produce: UNAVAILABLE, naming the endpoint, saying TLS and why. */
function expectTlsFailure(r: { status: number; json: any }, port: number, why: RegExp): void {
  expect(r.status).toBe(503);
  expect(r.json.code).toBe("UNAVAILABLE");
  expect(r.json.reason).toBe("upstream_connect_failed");
  expect(r.json.message).toContain(`127.0.0.1:${port}`);
  expect(r.json.message).toContain("TLS");
  expect(r.json.message).toMatch(why);
}

async function pollUntil(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const connectFailures = (gw: Gateway) => gw.groups.get("secure")!.stats().endpoints.reduce((n, p) => n + p.connectFailures, 0);

describe("server verification", () => {
  test("(a) caFile naming our CA: the call succeeds", async () => {
    await withGateway(plain.port, { tls: { caFile: pki.caFile } }, async (gw) => {
      const r = await echo(gw, "over tls");
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ text: "over tls", n: "7" });
    });
  }, 30_000);

  test("(a) ca as inline PEM: the call succeeds", async () => {
    await withGateway(plain.port, { tls: { ca: pki.ca } }, async (gw) => {
      const r = await echo(gw, "inline ca");
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("inline ca");
    });
  }, 30_000);

  test("(b) system roots only: 503 UNAVAILABLE saying the certificate is not trusted; no crash, re-dials back off", async () => {
    // One kept connection: the pool re-dials it in the background, which must back off, not loop.
    await withGateway(plain.port, { tls: {}, pool: { minConnections: 1 }, outlier: false }, async (gw) => {
      const r = await echo(gw);
      expectTlsFailure(r, plain.port, /certificate is not signed by a trusted CA/);
      await pollUntil("three failed dials", () => connectFailures(gw) >= 3);
      const before = connectFailures(gw);
      await new Promise((res) => setTimeout(res, 1_500));
      // With back-off (100 ms growing x1.6) a few more dials; a tight loop would make thousands.
      expect(connectFailures(gw) - before).toBeLessThan(30);
      // Still serving: another call fails the same way, the admin endpoint answers.
      expectTlsFailure(await echo(gw), plain.port, /not signed by a trusted CA/);
      expect((await getJson(`${gw.url}/healthz`)).status).toBe(200);
    });
  }, 30_000);

  test("(b) a CA that did not sign the server's certificate: same clear failure", async () => {
    await withGateway(plain.port, { tls: { caFile: pki.otherCaFile } }, async (gw) => {
      expectTlsFailure(await echo(gw), plain.port, /not signed by a trusted CA/);
    });
  }, 30_000);

  test("(c) insecureSkipVerify: the call succeeds without trusting the CA", async () => {
    await withGateway(plain.port, { tls: { insecureSkipVerify: true } }, async (gw) => {
      const r = await echo(gw, "unverified");
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("unverified");
    });
  }, 30_000);

  test("(d) servername backend.test: a certificate issued only for that name is accepted at 127.0.0.1", async () => {
    await withGateway(named.port, { tls: { caFile: pki.caFile, servername: "backend.test" } }, async (gw) => {
      const r = await echo(gw, "by name");
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("by name");
    });
  }, 30_000);

  test("(d) without servername the same certificate is refused: it does not list 127.0.0.1", async () => {
    await withGateway(named.port, { tls: { caFile: pki.caFile } }, async (gw) => {
      expectTlsFailure(await echo(gw), named.port, /certificate is not issued for the name or IP/);
    });
  }, 30_000);

  test("a wrong servername is refused too (the certificate is checked against it)", async () => {
    await withGateway(plain.port, { tls: { caFile: pki.caFile, servername: "backend.test" } }, async (gw) => {
      expectTlsFailure(await echo(gw), plain.port, /certificate is not issued for the name or IP/);
    });
  }, 30_000);
});

describe("host names: dialled at the resolved IP, verified as the name", () => {
  // backend.test resolves to 127.0.0.1 here; the server's certificate is issued only for backend.test.
  const lookup: LookupFn = async (host) => (host === "backend.test" ? [{ address: "127.0.0.1", family: 4 }] : []);

  test("an endpoint written as backend.test:port needs no servername", async () => {
    await withGateway(named.port, { endpoints: [`backend.test:${named.port}`], tls: { caFile: pki.caFile } }, async (gw) => {
      const r = await echo(gw, "static name");
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("static name");
    }, lookup);
  }, 30_000);

  test("dns discovery of backend.test needs no servername either", async () => {
    await withGateway(named.port, { endpoints: [], dns: { host: "backend.test", port: named.port }, tls: { caFile: pki.caFile } }, async (gw) => {
      expect((await echo(gw, "dns name")).status).toBe(200);
    }, lookup);
  }, 30_000);
});

describe("mutual TLS", () => {
  test("(e) with certFile/keyFile: the call succeeds and the server saw our client certificate", async () => {
    clientNames.length = 0;
    await withGateway(mutual.port, { tls: { caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile } }, async (gw) => {
      const r = await echo(gw, "mtls");
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("mtls");
    });
    expect(clientNames).toEqual(["sluice-gateway"]);
  }, 30_000);

  test("(e) with inline cert/key PEM: the call succeeds", async () => {
    await withGateway(mutual.port, { tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } }, async (gw) => {
      expect((await echo(gw, "inline mtls")).status).toBe(200);
    });
  }, 30_000);

  test("(e) without a client certificate: 503 saying the server requires one", async () => {
    await withGateway(mutual.port, { tls: { caFile: pki.caFile } }, async (gw) => {
      expectTlsFailure(await echo(gw), mutual.port, /requires a client certificate/);
    });
  }, 30_000);

  test("server streaming over mutual TLS arrives whole, as NDJSON", async () => {
    await withGateway(mutual.port, { tls: { caFile: pki.caFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile } }, async (gw) => {
      const res = await fetch(`${gw.url}/demo.v1.EchoService/EchoStream`, { method: "POST", body: JSON.stringify({ text: "s", n: 5 }) });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-ndjson");
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.text)).toEqual(["s0", "s1", "s2", "s3", "s4"]);
    });
  }, 30_000);
});

describe("TLS files and misconfiguration", () => {
  test("an unreadable caFile fails start-up with a message naming the upstream, the key and the path", async () => {
    const missing = `${pki.dir}/no-such-ca.pem`;
    const err = await withGateway(plain.port, { tls: { caFile: missing } }, async () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toContain(`upstream "secure": cannot read tls.caFile "${missing}"`);
  }, 30_000);

  test("a key file given as certFile fails start-up as not a PEM certificate", async () => {
    const err = await withGateway(mutual.port, { tls: { caFile: pki.caFile, certFile: pki.client.keyFile, keyFile: pki.client.keyFile } }, async () => {}).catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain(`tls.certFile "${pki.client.keyFile}" is not a PEM certificate`);
  }, 30_000);

  test("files are read per connection: a CA file renewed in place is used by the next connection", async () => {
    const renewed = `${pki.dir}/ca-renewed.pem`;
    writeFileSync(renewed, pki.server.cert); // a valid PEM certificate, but not the CA that signed the server
    await withGateway(plain.port, { tls: { caFile: renewed } }, async (gw) => {
      const before = await echo(gw);
      expect(before.status).toBe(503);
      expect(before.json.message).toContain(`127.0.0.1:${plain.port}`);
      writeFileSync(renewed, pki.ca);
      // The failed dial's back-off may refuse a call or two before the next connection is made.
      let r = await echo(gw, "after");
      for (let i = 0; i < 40 && r.status !== 200; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await echo(gw, "after");
      }
      expect(r.status).toBe(200);
      expect(r.json.text).toBe("after");
    });
  }, 30_000);
});
