// Per-connection flow limits of the TTHeader server: back-pressure and read/idle timeouts.

export interface ConnectionFlowOptions {
  /**
   * Calls of one connection run at once at most this many; further frames wait (the connection
   * is not read meanwhile), they are not failed. Default 1000.
   */
  readonly maxInFlightPerConnection?: number;
  /**
   * Reply bytes queued on a connection (not yet taken by the kernel) above which the connection
   * is not read, so a client that sends calls but does not read replies cannot make the server
   * buffer without bound. Default 1 MiB. A connection's queue stays below about
   * writeHighWaterBytes + maxInFlightPerConnection x the largest reply.
   */
  readonly writeHighWaterBytes?: number;
  /** Reading resumes once the queue is at or below this. Default 256 KiB (must be <= writeHighWaterBytes). */
  readonly writeLowWaterBytes?: number;
  /**
   * A frame whose first bytes arrived must be complete within this many ms, else the connection
   * is closed (Kitex: ReadWriteTimeout, 5 s, spec §3). Not counted while the server itself has
   * paused reading. 0 = never. Default 30 000.
   */
  readonly frameReadTimeoutMs?: number;
  /**
   * A connection with no call running, no frame waiting and no partial frame is closed gracefully
   * (crrst as on stop) after this many ms without traffic. 0 = never. Default 300 000.
   * (A Kitex server itself never closes idle connections, spec §3; clients must expect EOF anyway.)
   */
  readonly idleTimeoutMs?: number;
}

export type ConnectionFlow = Required<ConnectionFlowOptions>;

export const DEFAULT_FLOW: ConnectionFlow = {
  maxInFlightPerConnection: 1000,
  writeHighWaterBytes: 1024 * 1024,
  writeLowWaterBytes: 256 * 1024,
  frameReadTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
};

export function resolveFlow(o: ConnectionFlowOptions): ConnectionFlow {
  const flow: ConnectionFlow = {
    maxInFlightPerConnection: o.maxInFlightPerConnection ?? DEFAULT_FLOW.maxInFlightPerConnection,
    writeHighWaterBytes: o.writeHighWaterBytes ?? DEFAULT_FLOW.writeHighWaterBytes,
    writeLowWaterBytes: o.writeLowWaterBytes ?? Math.min(DEFAULT_FLOW.writeLowWaterBytes, o.writeHighWaterBytes ?? Infinity),
    frameReadTimeoutMs: o.frameReadTimeoutMs ?? DEFAULT_FLOW.frameReadTimeoutMs,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_FLOW.idleTimeoutMs,
  };
  if (!(flow.maxInFlightPerConnection >= 1)) throw new RangeError("maxInFlightPerConnection must be >= 1");
  if (!(flow.writeHighWaterBytes >= 0) || !(flow.writeLowWaterBytes >= 0) || flow.writeLowWaterBytes > flow.writeHighWaterBytes) {
    throw new RangeError("need 0 <= writeLowWaterBytes <= writeHighWaterBytes");
  }
  if (!(flow.frameReadTimeoutMs >= 0) || !(flow.idleTimeoutMs >= 0)) throw new RangeError("timeouts must be >= 0 (0 = off)");
  return flow;
}

/** Server-wide counters the connections bump (read through TTHeaderServer.stats()). */
export interface FlowCounters {
  /** Handlers started (calls and oneways), since the server started. */
  callsStarted: number;
  /** Largest reply queue seen on one connection right after a write, in bytes. */
  peakOutboundBytes: number;
  /** Most calls seen running at once on one connection. */
  peakInFlightPerConnection: number;
  /** Connections closed because a partial frame stalled. */
  frameReadTimeouts: number;
  /** Connections closed for being idle. */
  idleCloses: number;
}

export function newFlowCounters(): FlowCounters {
  return { callsStarted: 0, peakOutboundBytes: 0, peakInFlightPerConnection: 0, frameReadTimeouts: 0, idleCloses: 0 };
}
