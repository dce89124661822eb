// HTTP/2 client and server through node:http2 (implemented by Bun, Deno and Node).
import http2 from "node:http2";
import { isIP } from "node:net";
import process from "node:process";
import type { H2ConnectOptions, H2ServeOptions, H2ServerHandle, H2ServerStream, H2Session, H2Stream, H2TlsOptions } from "../types.ts";
import { makeTlsError, tlsError } from "./tls-errors.ts";

const DEFAULT_WINDOW = 4 * 1024 * 1024;
const BUN = typeof (process.versions as Record<string, string | undefined>).bun === "string";

/** node:tls connect options for an https: authority. */
function tlsConnectOptions(url: URL, tls: H2TlsOptions | undefined): Record<string, unknown> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // SNI carries host names only (RFC 6066 section 3); Bun and Deno throw on an IP servername. Without one,
  // the certificate is checked against the IP itself (its IP SANs).
  const servername = tls?.servername ?? (isIP(host) ? undefined : host);
  return {
    // gRPC over TLS is HTTP/2 chosen by ALPN (RFC 7540 section 3.3; gRPC PROTOCOL-HTTP2.md).
    ALPNProtocols: ["h2"],
    ...(servername !== undefined ? { servername } : {}),
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls?.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
  };
}

export function openH2Session(o: H2ConnectOptions): H2Session {
  const url = new URL(o.authority);
  const secure = url.protocol === "https:";
  const settings = { initialWindowSize: o.initialWindowSize ?? DEFAULT_WINDOW, enablePush: false };
  const session = http2.connect(o.authority, { settings, ...(secure ? tlsConnectOptions(url, o.tls) : {}) });
  let closed = false;
  /** The first error, as the cause the close reports (TLS failures as TlsError). */
  let lastError: Error | undefined;
  let maxStreams = 100; // RFC 9113 6.5.2 recommends >= 100; replaced by the server's SETTINGS.
  const ready = new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (o.connectTimeoutMs) {
      timer = setTimeout(() => {
        const e = new Error(`connect to ${url.host} timed out after ${o.connectTimeoutMs} ms`);
        e.name = "ConnectTimeoutError";
        session.destroy(e);
        reject(e);
      }, o.connectTimeoutMs);
    }
    session.once("connect", () => {
      if (timer) clearTimeout(timer);
      if (secure && session.alpnProtocol !== "h2") {
        // Node and Deno connect anyway when the server ignores ALPN, then wait for SETTINGS that never come.
        const e = makeTlsError(`the server did not select HTTP/2 with ALPN (selected: ${session.alpnProtocol || "nothing"})`);
        session.destroy(e);
        reject(e);
        return;
      }
      // Bigger connection window than the 64 KiB default so large replies don't stall (RFC 9113 6.9.2).
      // Not on Bun: its setLocalWindowSize also raises the per-stream receive window without telling the
      // peer, so no stream WINDOW_UPDATE is ever sent and every reply larger than the stream window
      // stalls forever (oven-sh/bun#40180, #41942; seen on Bun 1.4.5). Bun credits the connection
      // window as data arrives, so the 64 KiB default does not block other streams there.
      if (!BUN) {
        try { session.setLocalWindowSize(settings.initialWindowSize * 4); } catch { /* not supported everywhere */ }
      }
      resolve();
    });
    session.once("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(tlsError(e) ?? e);
    });
  });
  ready.catch(() => {});
  if (secure) {
    // A TLS 1.3 server checks the client certificate after the client's handshake is done, so its refusal
    // (alert certificate_required) arrives as a socket error after 'connect'. Node 20 then marks the session
    // destroyed without emitting 'error' or 'close' and never closes the socket (one fd leaked per attempt):
    // close both and report it ourselves (finish() is a no-op if the session did).
    session.once("connect", () => {
      type Sock = { destroyed?: boolean; destroy?: () => void };
      try {
        (session.socket as { once?: (ev: "error", fn: (this: Sock, e: Error) => void) => void } | undefined)?.once?.("error", function (this: Sock, e) {
          // `this` is the socket itself: node:http2 hands out a proxy that refuses destroy().
          const socket = this;
          lastError ??= tlsError(e) ?? e;
          setTimeout(() => {
            if (!session.destroyed) session.destroy(lastError);
            if (socket && socket.destroyed === false) socket.destroy?.();
            finish();
          }, 0);
        });
      } catch {
        // Not every runtime exposes the socket.
      }
    });
  }
  // TCP keepalive under the session: keeps NAT/conntrack entries of idle sessions alive and finds dead
  // peers, without HTTP/2 PINGs that servers punish on idle connections (GOAWAY too_many_pings).
  const keepAliveMs = o.tcpKeepAliveMs;
  if (keepAliveMs) {
    // `session.socket` is a proxy that throws ERR_HTTP2_NO_SOCKET_MANIPULATION on setKeepAlive; the
    // 'connect' event's second argument is the socket itself (Node, Bun and Deno alike).
    session.once("connect", (_s: unknown, socket: { setKeepAlive?: (on: boolean, ms: number) => void } | undefined) => {
      try {
        socket?.setKeepAlive?.(true, keepAliveMs);
      } catch {
        // Not every runtime exposes the socket.
      }
    });
  }
  session.on("error", (e) => { lastError ??= tlsError(e) ?? e; });
  session.on("remoteSettings", (s) => {
    if (typeof s.maxConcurrentStreams === "number") maxStreams = Math.min(s.maxConcurrentStreams, 1_000_000);
    o.events.remoteSettings(maxStreams);
  });
  session.on("goaway", (code: number, lastStreamId: number) => o.events.goaway(code, lastStreamId));
  function finish(): void {
    if (closed) return;
    closed = true;
    o.events.close(lastError);
  }
  session.on("close", finish);
  return {
    ready,
    get maxConcurrentStreams() { return maxStreams; },
    get closed() { return closed || session.closed || session.destroyed; },
    request: (headers, options) => session.request(headers, { endStream: options?.endStream ?? false }) as unknown as H2Stream,
    ping: (timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`ping not acknowledged in ${timeoutMs} ms`)), timeoutMs);
        try {
          session.ping((err, duration) => {
            clearTimeout(t);
            if (err) reject(err);
            else resolve(duration);
          });
        } catch (e) {
          clearTimeout(t);
          reject(e);
        }
      }),
    close: () => { if (!session.closed) session.close(); },
    destroy: (err) => { session.destroy(err); },
    unref: () => { session.unref(); },
  };
}

export function serveH2(o: H2ServeOptions): Promise<H2ServerHandle> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: o.maxConcurrentStreams ?? 1000, initialWindowSize: DEFAULT_WINDOW } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    o.onStream(stream as unknown as H2ServerStream, headers as Record<string, string>);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.hostname, () => {
      const addr = server.address() as { port: number };
      resolve({
        port: addr.port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            for (const s of sessions) s.close();
          }),
        destroy: () => {
          for (const s of sessions) s.destroy();
          server.close();
        },
      });
    });
  });
}
