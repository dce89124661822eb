// The runtime's HTTP/2 client over TLS, against node:http2/node:tls servers on loopback: ALPN h2 offered,
// SNI only for names, certificates checked against the servername, and a clear TlsError when the server
// picks no ALPN protocol (instead of waiting for SETTINGS that never come).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { makeTestPki, type TestPki } from "../../../test/helpers/tls-certs.ts";
import type { H2Session, H2TlsOptions } from "../types.ts";
import { openH2Session } from "./node-http2.ts";

let pki: TestPki;
const servers: { close(): unknown }[] = [];

beforeAll(() => {
  pki = makeTestPki();
});

afterAll(() => {
  for (const s of servers) s.close();
  pki?.remove();
});

interface Seen { alpn: unknown; servername: unknown }

/** An HTTP/2 TLS server that records, per session, the ALPN protocol and SNI name it saw. */
async function h2Server(cert: { cert: string; key: string }): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http2.createSecureServer({ cert: cert.cert, key: cert.key });
  server.on("session", (s) => {
    const sock = s.socket as unknown as { alpnProtocol?: unknown; servername?: unknown };
    seen.push({ alpn: s.alpnProtocol ?? sock.alpnProtocol, servername: sock.servername });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, seen };
}

function open(port: number, tlsOptions: H2TlsOptions): { session: H2Session; closed: Promise<Error | undefined>; settings: Promise<void> } {
  let closed!: (e: Error | undefined) => void;
  let settings!: () => void;
  const c = new Promise<Error | undefined>((r) => (closed = r));
  const s = new Promise<void>((r) => (settings = r));
  const session = openH2Session({
    authority: `https://127.0.0.1:${port}`,
    connectTimeoutMs: 5_000,
    tls: tlsOptions,
    events: { goaway: () => {}, close: (e) => closed(e), remoteSettings: () => settings() },
  });
  return { session, closed: c, settings: s };
}

describe("HTTP/2 over TLS (runtime)", () => {
  test("offers ALPN h2; an IP authority sends no SNI and is checked against the certificate's IP SAN", async () => {
    const srv = await h2Server(pki.server);
    const { session, settings, closed } = open(srv.port, { ca: pki.ca });
    await session.ready;
    await settings;
    expect(srv.seen.length).toBe(1);
    expect(srv.seen[0]!.alpn).toBe("h2");
    expect(srv.seen[0]!.servername || undefined).toBeUndefined();
    session.destroy();
    await closed;
  }, 20_000);

  test("servername is sent as SNI and is the name the certificate must match", async () => {
    const srv = await h2Server(pki.serverBackendTest);
    const { session, settings, closed } = open(srv.port, { ca: pki.ca, servername: "backend.test" });
    await session.ready;
    await settings;
    expect(srv.seen[0]!.servername).toBe("backend.test");
    session.destroy();
    await closed;
  }, 20_000);

  test("an untrusted certificate rejects ready and reports the close with a TlsError", async () => {
    const srv = await h2Server(pki.server);
    const { session, closed } = open(srv.port, {});
    const err = await session.ready.then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe("TlsError");
    expect(err?.message).toContain("not signed by a trusted CA");
    expect((await closed)?.name).toBe("TlsError");
  }, 20_000);

  test("a TLS server that selects no ALPN protocol: TlsError naming ALPN, not a wait for SETTINGS", async () => {
    const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key }, (sock) => {
      sock.on("error", () => {});
      sock.on("data", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    servers.push(server);
    const { session, closed } = open((server.address() as AddressInfo).port, { ca: pki.ca });
    const err = await session.ready.then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe("TlsError");
    expect(err?.message).toContain("ALPN");
    expect((await closed)?.message).toContain("ALPN");
  }, 20_000);
});
