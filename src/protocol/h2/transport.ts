// The byte stream under a session: structurally the runtime's TcpConnection/TcpHandlers/connectTcp
// (src/runtime/types.ts), restated here because protocol/ may not import runtime/ (same layer).

export interface H2Transport {
  /** false: queued, wait for the handlers' drain(). */
  write(data: Uint8Array): boolean;
  /** Half-close after queued writes flush. */
  end(): void;
  destroy(err?: Error): void;
  readonly closed: boolean;
  /** Optional: don't keep the process alive for this socket. */
  unref?(): void;
}

export interface H2TransportHandlers {
  data(chunk: Uint8Array): void;
  drain(): void;
  close(err?: Error): void;
}

export interface H2TransportConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  noDelay?: boolean;
  keepAliveMs?: number;
}

export type H2Connect = (o: H2TransportConnectOptions, handlers: H2TransportHandlers) => Promise<H2Transport>;
