import { sleep } from "../../core/index.ts";
import { resolveLimits, type TTHeaderLimits } from "../../protocol/ttheader/index.ts";
import type { Runtime, TcpServerHandle } from "../../runtime/index.ts";
import type { ServiceImplementation } from "../types.ts";
import { newFlowCounters, resolveFlow, type ConnectionFlowOptions } from "./connection-flow.ts";
import { createRouter } from "./routing.ts";
import { ServerConnection } from "./server-connection.ts";

export interface TTHeaderServeOptions extends ConnectionFlowOptions {
  /** The runtime's TCP listen function, injected (structural `Runtime["listenTcp"]`). */
  readonly listenTcp: Runtime["listenTcp"];
  readonly hostname: string;
  /** 0 picks a free port (see TTHeaderServer.port). */
  readonly port: number;
  readonly service: ServiceImplementation;
  readonly limits?: Partial<TTHeaderLimits>;
  /** Default bound for stop(): 5000 ms, Kitex's ExitWaitTime (spec §4.2). */
  readonly stopTimeoutMs?: number;
  /** After the crrst control frame, mux connections stay open this long for requests in transit. Default 100 ms. */
  readonly stopGraceMs?: number;
  /** Malformed frames, frame-read timeouts, handler crashes after the reply was due, oversized replies. Default: ignore. */
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

export interface TTHeaderServerStats {
  readonly connections: number;
  readonly inFlight: number;
  readonly stopping: boolean;
  /** Reply bytes queued in user space now, all connections. */
  readonly outboundBytes: number;
  /** Largest reply queue one connection had right after a write, since start. */
  readonly peakOutboundBytes: number;
  /** Connections not being read now (back-pressure: in-flight cap or write high-water). */
  readonly pausedConnections: number;
  /** Decoded frames waiting for dispatch now, all connections. */
  readonly pendingFrames: number;
  /** Handlers started since start. */
  readonly callsStarted: number;
  /** Most calls running at once on one connection, since start. */
  readonly peakInFlightPerConnection: number;
  /** Connections closed for a stalled partial frame / for idleness, since start. */
  readonly frameReadTimeouts: number;
  readonly idleCloses: number;
}

export interface TTHeaderServer {
  readonly port: number;
  /**
   * Graceful: crrst to every connection (control frame on mux, header on pingpong
   * replies), in-flight calls finish, then connections and the listener close.
   * After timeoutMs, handlers are aborted and everything is closed.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Closes everything now; handlers see ctx.signal abort. */
  destroy(): Promise<void>;
  stats(): TTHeaderServerStats;
}

/** Serves a ServiceImplementation over TTHeader + KitexProtobuf, mux and pingpong clients on one port. */
export async function serveTTHeader(options: TTHeaderServeOptions): Promise<TTHeaderServer> {
  const router = createRouter(options.service);
  const conns = new Set<ServerConnection>();
  const onError = options.onError ?? (() => {});
  const now = options.now ?? Date.now;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const counters = newFlowCounters();
  const deps = {
    flow: resolveFlow(options),
    counters,
    router,
    limits: resolveLimits(options.limits),
    stopGraceMs: options.stopGraceMs ?? 100,
    onError,
    now,
    onClosed: (c: ServerConnection) => conns.delete(c),
  };

  const handle: TcpServerHandle = await options.listenTcp({ hostname: options.hostname, port: options.port }, (tcp) => {
    const conn = new ServerConnection(tcp, deps);
    conns.add(conn);
    if (stopping) queueMicrotask(() => conn.beginStop()); // accepted while stopping: close it once idle
    return conn.handlers;
  });

  let closing: Promise<void> | undefined;
  const closeAll = (): Promise<void> => {
    closing ??= (async () => {
      for (const c of [...conns]) c.destroy();
      await handle.close();
    })();
    return closing;
  };

  return {
    port: handle.port,
    stop(stopOptions) {
      if (stopped) return stopped;
      stopping = true;
      const timeoutMs = stopOptions?.timeoutMs ?? options.stopTimeoutMs ?? 5000;
      const until = now() + timeoutMs;
      stopped = (async () => {
        // New connections are refused from here on (clients reconnect elsewhere, a never-sent failure).
        handle.stopAccepting();
        for (const c of conns) c.beginStop();
        while (conns.size > 0 && now() < until) await sleep(10);
        await closeAll();
      })();
      return stopped;
    },
    async destroy() {
      stopping = true;
      await closeAll();
    },
    stats() {
      let inFlight = 0;
      let outboundBytes = 0;
      let pausedConnections = 0;
      let pendingFrames = 0;
      for (const c of conns) {
        inFlight += c.inFlight;
        outboundBytes += c.outboundBytes;
        pendingFrames += c.pendingFrames;
        if (c.readPaused) pausedConnections++;
      }
      return { connections: conns.size, inFlight, stopping, outboundBytes, pausedConnections, pendingFrames, ...counters };
    },
  };
}
