// TCP through node:net, which Bun, Deno and Node all implement.
import { Buffer } from "node:buffer";
import net from "node:net";
import { setImmediate } from "node:timers";
import type { TcpConnection, TcpConnectOptions, TcpHandlers, TcpServerHandle } from "../types.ts";

function wrap(sock: net.Socket, coalesce = false): { conn: TcpConnection; bind(h: TcpHandlers): void } {
  let closed = false;
  // coalesceWrites: chunks of this turn, written together from setImmediate (after this turn's I/O callbacks).
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (queued.length === 0) return;
    const parts = queued;
    const n = queuedBytes;
    queued = [];
    queuedBytes = 0;
    if (closed || sock.destroyed) return;
    sock.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, n));
  };
  const conn: TcpConnection = {
    get localPort() { return sock.localPort ?? 0; },
    get remoteAddress() { return sock.remoteAddress ?? ""; },
    get remotePort() { return sock.remotePort ?? 0; },
    write: (data) => {
      if (closed || sock.destroyed) return false;
      if (!coalesce) return sock.write(data);
      queued.push(data);
      queuedBytes += data.byteLength;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      // false only when the socket itself will emit 'drain' (a write of ours already returned false).
      return !sock.writableNeedDrain;
    },
    get bufferedAmount() { return sock.writableLength + queuedBytes; },
    end: () => {
      flush();
      sock.end();
    },
    destroy: (err) => { sock.destroy(err); },
    pause: () => { sock.pause(); },
    resume: () => { sock.resume(); },
    get closed() { return closed || sock.destroyed; },
  };
  return {
    conn,
    bind(h) {
      let error: Error | undefined;
      sock.on("data", (b: Uint8Array) => h.data(b));
      sock.on("drain", () => h.drain());
      sock.on("error", (e) => { error = e; });
      sock.on("close", () => {
        closed = true;
        h.close(error);
      });
    },
  };
}

export function connectTcp(o: TcpConnectOptions, handlers: TcpHandlers): Promise<TcpConnection> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: o.host, port: o.port, noDelay: o.noDelay ?? true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (e: Error) => {
      if (timer) clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    if (o.connectTimeoutMs) {
      timer = setTimeout(() => {
        const e = new Error(`connect to ${o.host}:${o.port} timed out after ${o.connectTimeoutMs} ms`);
        e.name = "ConnectTimeoutError";
        fail(e);
      }, o.connectTimeoutMs);
    }
    sock.once("error", fail);
    sock.once("connect", () => {
      if (timer) clearTimeout(timer);
      sock.off("error", fail);
      if (o.keepAliveMs) sock.setKeepAlive(true, o.keepAliveMs);
      const w = wrap(sock, o.coalesceWrites === true);
      w.bind(handlers);
      resolve(w.conn);
    });
  });
}

export function listenTcp(o: { hostname: string; port: number }, accept: (conn: TcpConnection) => TcpHandlers): Promise<TcpServerHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    const w = wrap(sock);
    w.bind(accept(w.conn));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.hostname, () => {
      const addr = server.address() as net.AddressInfo;
      let listening = true;
      resolve({
        port: addr.port,
        stopAccepting: () => {
          if (!listening) return;
          listening = false;
          server.close();
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            if (!listening) return res();
            listening = false;
            server.close(() => res());
          }),
      });
    });
  });
}
