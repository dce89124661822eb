/**
 * The runtime port. Everything outside src/runtime/ talks to the platform only
 * through these interfaces (Web-standard Request/Response for HTTP).
 */

export interface ServeOptions {
  hostname: string;
  port: number;
  fetch: (req: Request, info: { remoteAddress: string }) => Response | Promise<Response>;
  /** Largest request body the server itself will accept (bytes); the app enforces per-route limits below it. */
  maxRequestBodySize?: number;
  /** Seconds an idle keep-alive client connection is kept. */
  idleTimeoutSec?: number;
}

export interface ServerHandle {
  readonly hostname: string;
  readonly port: number;
  /** Stop accepting; with force=false, in-flight requests finish first. */
  stop(force?: boolean): Promise<void>;
}

export interface TcpConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  noDelay?: boolean;
  /** TCP keepalive initial delay; 0 disables. */
  keepAliveMs?: number;
  /**
   * Writes made in one event-loop turn leave as one socket write at the end of the turn: many small
   * frames (a mux connection under load) cost one syscall instead of one each. end() flushes first.
   */
  coalesceWrites?: boolean;
}

export interface TcpHandlers {
  data(chunk: Uint8Array): void;
  /** The write buffer emptied after write() returned false. */
  drain(): void;
  /** Closed, by either side; err when it was not a clean close. */
  close(err?: Error): void;
}

export interface TcpConnection {
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** false: the data was queued, wait for drain(). Never throws. */
  write(data: Uint8Array): boolean;
  /** Bytes queued in user space, not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Half-close after queued writes flush. */
  end(): void;
  destroy(err?: Error): void;
  pause(): void;
  resume(): void;
  readonly closed: boolean;
}

export interface TcpServerHandle {
  readonly port: number;
  /** Refuse new connections; open ones stay (graceful shutdown). */
  stopAccepting(): void;
  /** Refuse new connections and destroy open ones. */
  close(): Promise<void>;
}

/**
 * HTTP/2 client stream, the subset of node:http2's ClientHttp2Stream we use.
 * Kept structural so the node object is used directly on the hot path.
 */
export interface H2Stream {
  readonly id?: number;
  readonly rstCode?: number;
  readonly destroyed: boolean;
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  end(chunk?: Uint8Array): void;
  close(code?: number): void;
  pause(): void;
  resume(): void;
  on(event: "response", fn: (headers: Record<string, string | string[] | undefined>, flags: number) => void): unknown;
  on(event: "trailers", fn: (headers: Record<string, string | string[] | undefined>, flags: number) => void): unknown;
  on(event: "data", fn: (chunk: Uint8Array) => void): unknown;
  on(event: "end" | "drain", fn: () => void): unknown;
  on(event: "close", fn: () => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  once(event: "drain" | "close", fn: () => void): unknown;
  off(event: "drain" | "close", fn: () => void): unknown;
}

export interface H2SessionEvents {
  goaway(errorCode: number, lastStreamId: number): void;
  close(err?: Error): void;
  remoteSettings(maxConcurrentStreams: number): void;
}

export interface H2Session {
  /** Resolves once the connection is up (or rejects: connect failure/timeout). */
  readonly ready: Promise<void>;
  readonly maxConcurrentStreams: number;
  readonly closed: boolean;
  request(headers: Record<string, string>, options?: { endStream?: boolean }): H2Stream;
  /** Round-trip time in ms; rejects if the session dies or no ack in timeoutMs. */
  ping(timeoutMs: number): Promise<number>;
  /** Graceful: no new streams, existing finish. */
  close(): void;
  destroy(err?: Error): void;
  /** Don't keep the process alive just for this session. */
  unref(): void;
}

/** TLS for an https: session. ALPN is always h2; failures reject/close with an Error named "TlsError". */
export interface H2TlsOptions {
  /** SNI and the name the server certificate must match. Default: the authority's host when it is a name;
   *  for an IP, no SNI and the certificate must list that IP. Never an IP itself. */
  servername?: string;
  /** Trusted CA certificates, PEM (one or more). Default: the runtime's system roots. */
  ca?: string;
  /** Client certificate chain (PEM) for mutual TLS; needs `key`. */
  cert?: string;
  /** Private key (PEM, unencrypted) of `cert`. */
  key?: string;
  /** false accepts any server certificate (testing only). Default true. */
  rejectUnauthorized?: boolean;
}

export interface H2ConnectOptions {
  /** e.g. http://127.0.0.1:50051 or https://host:443 */
  authority: string;
  connectTimeoutMs?: number;
  /** Used when the authority is https:. */
  tls?: H2TlsOptions;
  /** Our initial window sizes; large windows matter for big replies. */
  initialWindowSize?: number;
  /** TCP keepalive initial delay on the session's socket (0/undefined = off). */
  tcpKeepAliveMs?: number;
  events: H2SessionEvents;
}

export interface H2ServerStream {
  respond(headers: Record<string, string | number>, options?: { waitForTrailers?: boolean; endStream?: boolean }): void;
  sendTrailers(headers: Record<string, string>): void;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): void;
  close(code?: number): void;
  readonly destroyed: boolean;
  on(event: "data", fn: (chunk: Uint8Array) => void): unknown;
  on(event: "end" | "close" | "drain" | "wantTrailers" | "aborted", fn: () => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  once(event: "drain" | "close", fn: () => void): unknown;
  off(event: "drain" | "close", fn: () => void): unknown;
  pause(): void;
  resume(): void;
}

export interface H2ServerHandle {
  readonly port: number;
  /** Graceful: sends GOAWAY to every session, waits for streams to finish. */
  close(): Promise<void>;
  /** Hard stop: destroys every session. */
  destroy(): void;
}

export interface H2ServeOptions {
  hostname: string;
  port: number;
  onStream(stream: H2ServerStream, headers: Record<string, string | string[] | undefined>): void;
  maxConcurrentStreams?: number;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  /** Seconds the record may be cached (the DNS record's TTL), when the answer came from DNS. */
  ttl?: number;
}

export interface DnsQueryOptions {
  /** Ask these servers ("ip" or "ip:port") instead of the system's; no fallback to the system lookup then. */
  servers?: readonly string[];
}

export type SignalName = "SIGINT" | "SIGTERM" | "SIGHUP";

/** HTTP content codings (RFC 9110 8.4.1) a flushing compressor can produce. */
export type StreamContentEncoding = "br" | "gzip";

/** Compressors for streamed replies that flush after every chunk (see shared/flushing-compressor.ts). */
export interface FlushingCompressors {
  /** What this runtime offers, most preferred first. */
  readonly encodings: readonly StreamContentEncoding[];
  /** Each chunk written comes out complete (decodable on its own arrival) before the next is taken. */
  create(encoding: StreamContentEncoding): TransformStream<Uint8Array, Uint8Array>;
}

export interface Runtime {
  readonly name: "bun" | "deno" | "node";
  serve(options: ServeOptions): Promise<ServerHandle>;
  connectTcp(options: TcpConnectOptions, handlers: TcpHandlers): Promise<TcpConnection>;
  listenTcp(options: { hostname: string; port: number }, accept: (conn: TcpConnection) => TcpHandlers): Promise<TcpServerHandle>;
  openH2Session(options: H2ConnectOptions): H2Session;
  serveH2(options: H2ServeOptions): Promise<H2ServerHandle>;
  /**
   * A and AAAA of `host` with their TTLs (DNS queries); names DNS doesn't answer (localhost, /etc/hosts
   * entries, search-list names) fall back to the system lookup, without TTL. IP literals come back as they are.
   */
  resolveDns(host: string, options?: DnsQueryOptions): Promise<ResolvedAddress[]>;
  readFile(path: string): Promise<Uint8Array>;
  readTextFile(path: string): Promise<string>;
  env(name: string): string | undefined;
  onSignal(signal: SignalName, fn: () => void): () => void;
  /** Flushing compressors for streamed HTTP replies (NDJSON, SSE). */
  readonly streamCompressors: FlushingCompressors;
  /** Resident set size in bytes (for memory-bound tests and metrics). */
  memoryRss(): number;
  exit(code: number): never;
  args(): string[];
}
