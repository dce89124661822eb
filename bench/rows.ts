// The benchmark rows. A row is either an HTTP target measured with wrk, or a script that measures
// itself and prints a BENCH_RESULT line. To add a row, append to `rows` (and a server to `servers`
// if it needs one). Rows run one after another; each row's own servers start before it and stop after.

/** A process the rows need. `ready` is a line it prints once it can serve. */
export interface ServerSpec {
  readonly cmd: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** For gateways: a config derived from bench/sluice.yaml, written to a temp file and passed as --config. */
  readonly config?: (base: GatewayConfig, ports: Ports) => GatewayConfig;
  readonly ready: RegExp;
  /** Kept running for every row that needs it (the backend), instead of stopping after the row. */
  readonly shared?: boolean;
}

export interface Ports {
  readonly backend: number;
  readonly hello: number;
  readonly gateway: number;
}

/** The YAML config as plain data (validated by the gateway itself). */
export type GatewayConfig = Record<string, unknown> & { upstreams: Record<string, unknown>[] };

interface RowBase {
  readonly name: string;
  /** One line for the table's notes. */
  readonly what: string;
  /** Server names (keys of `servers`) this row needs, started in order. */
  readonly servers: readonly string[];
  /** Part of the default set (others run only when asked for with --rows). */
  readonly default: boolean;
  /** The row the "vs ceiling" ratio is taken against. */
  readonly ceiling?: string;
}

export interface WrkRow extends RowBase {
  readonly kind: "wrk";
  readonly url: (p: Ports) => string;
  readonly method?: "GET" | "POST";
  readonly body?: string;
  /** The server whose CPU use (process tree) is reported. */
  readonly cpuOf?: string;
}

export interface ScriptRow extends RowBase {
  readonly kind: "script";
  /** Gets `-c <connections> -d <seconds> --warmup <seconds>` appended; prints `BENCH_RESULT {json}`. */
  readonly cmd: (p: Ports) => string[];
}

export type Row = WrkRow | ScriptRow;

export const SMALL_ECHO = '{"text":"hello","n":"42"}';

const BUN = "node_modules/.bin/bun";
const TSX = "node_modules/.bin/tsx";
const DENO = "node_modules/.bin/deno";

/** bench/sluice.yaml pointed at this run's ports, then changed by `tweak` (a row's own settings). */
const gatewayConfig =
  (tweak?: (c: GatewayConfig, p: Ports) => GatewayConfig) =>
  (base: GatewayConfig, p: Ports): GatewayConfig => {
    const c: GatewayConfig = {
      ...base,
      listen: { host: "127.0.0.1", port: p.gateway },
      upstreams: base.upstreams.map((u) => ({ ...u, endpoints: [`127.0.0.1:${p.backend}`] })),
    };
    return tweak ? tweak(c, p) : c;
  };

/** Changes the (first) upstream of the gateway config. */
const upstream =
  (change: (u: Record<string, unknown>, p: Ports) => Record<string, unknown>) =>
  (c: GatewayConfig, p: Ports): GatewayConfig => ({ ...c, upstreams: c.upstreams.map((u, i) => (i === 0 ? change(u, p) : u)) });

const ENTRY = {
  bun: [BUN, "src/entry/bun.ts"],
  node: [TSX, "src/entry/node.ts"],
  deno: [DENO, "run", "-A", "--unstable-no-legacy-abort", "src/entry/deno.ts"],
} as const;

const sluice = (runtime: keyof typeof ENTRY, tweak?: (c: GatewayConfig, p: Ports) => GatewayConfig): ServerSpec => ({
  cmd: ENTRY[runtime],
  config: gatewayConfig(tweak),
  ready: /listening on/,
});

// The demo backend serves TTHeader on its gRPC port + 1 where the build has it (bench/backend.ts).
const ttheader = (mode: "mux" | "pool") =>
  upstream((u, p) => ({ ...u, protocol: "ttheader", mode, endpoints: [`127.0.0.1:${p.backend + 1}`] }));
const grpcConnections = (n: number) => upstream((u) => ({ ...u, pool: { ...(u.pool as object), minConnections: n, maxConnections: n } }));

export const servers: Record<string, ServerSpec> = {
  backend: { cmd: [BUN, "bench/backend.ts", "{backend}"], ready: /listening on/, shared: true },
  "hello-bun": { cmd: [BUN, "bench/hello.ts", "{hello}"], ready: /listening on/ },
  "sluice-bun": sluice("bun"),
  "sluice-node": sluice("node"),
  "sluice-deno": sluice("deno"),
  "sluice-bun-ttheader-mux": sluice("bun", ttheader("mux")),
  "sluice-bun-ttheader-pool": sluice("bun", ttheader("pool")),
};
// gRPC upstream through our own HTTP/2 client (src/protocol/h2) instead of the runtime's node:http2.
const ownH2 = upstream((u) => ({ ...u, http2Client: "sluice" }));
servers["sluice-bun-h2-sluice"] = sluice("bun", ownH2);
servers["sluice-node-h2-sluice"] = sluice("node", ownH2);
servers["sluice-deno-h2-sluice"] = sluice("deno", ownH2);
servers["sluice-bun-no-access-log"] = sluice("bun", (c) => ({ ...c, logging: { accessLog: false } }));
servers["sluice-bun-no-access-log-h2-sluice"] = sluice("bun", (c, p) => ownH2({ ...c, logging: { accessLog: false } }, p));
// The gateway with its upstream calls answered in-process (bench/fake-connection.ts): no upstream sockets.
servers["sluice-bun-fake-upstream"] = { cmd: [BUN, "bench/fake-upstream-gateway.ts"], config: gatewayConfig(), ready: /listening on/ };
servers["sluice-bun-fake-upstream-no-access-log"] = { ...servers["sluice-bun-fake-upstream"], config: gatewayConfig((c) => ({ ...c, logging: { accessLog: false } })) };
for (const n of [1, 2, 4, 8]) servers[`sluice-bun-grpc-conns-${n}`] = sluice("bun", grpcConnections(n));

const echo = (p: Ports) => `http://127.0.0.1:${p.gateway}/v1/echo`;

/** A row: POST /v1/echo with the small body through a gateway server, ratio against the Bun.serve ceiling. */
const sluiceRow = (server: string, what: string, isDefault: boolean): WrkRow => ({
  kind: "wrk", name: server, what, servers: ["backend", server], url: echo, body: SMALL_ECHO, cpuOf: server, ceiling: "hello-bun", default: isDefault,
});

export const rows: Row[] = [
  {
    kind: "wrk", name: "hello-bun", what: "bare Bun.serve, small JSON reply (the ceiling)",
    servers: ["hello-bun"], url: (p) => `http://127.0.0.1:${p.hello}/`, method: "POST", body: SMALL_ECHO, cpuOf: "hello-bun", default: true,
  },
  sluiceRow("sluice-bun", "Sluice on Bun: POST /v1/echo -> gRPC (1 h2 connection) -> demo backend (Bun, own process)", true),
  {
    kind: "script", name: "grpc-client-bun", what: "our gRPC connection alone (no HTTP side): Echo in a loop, c calls in flight, on Bun",
    servers: ["backend"], cmd: (p) => [BUN, "bench/upstream-loop.ts", "--port", String(p.backend)], default: true,
  },
  sluiceRow("sluice-bun-h2-sluice", "sluice-bun with upstreams[].http2Client: sluice (our HTTP/2 client instead of node:http2)", true),
  {
    kind: "script", name: "grpc-client-bun-h2-sluice", what: "grpc-client-bun over our HTTP/2 client (--h2 sluice)",
    servers: ["backend"], cmd: (p) => [BUN, "bench/upstream-loop.ts", "--port", String(p.backend), "--h2", "sluice"], default: true,
  },
  ...(["runtime", "sluice"] as const).map((h2): Row => ({
    kind: "script", name: `h2-session-bun-${h2}`, what: `one HTTP/2 session alone (no gRPC layer), Echo as a raw stream, ${h2 === "runtime" ? "node:http2" : "our"} client, on Bun`,
    servers: ["backend"], cmd: (p) => [BUN, "bench/h2-session-loop.ts", "--port", String(p.backend), "--h2", h2], default: false,
  })),
  sluiceRow("sluice-node", "Sluice on Node (tsx), same path", true),
  sluiceRow("sluice-deno", "Sluice on Deno, same path", true),
  sluiceRow("sluice-node-h2-sluice", "sluice-node with http2Client: sluice", false),
  sluiceRow("sluice-deno-h2-sluice", "sluice-deno with http2Client: sluice", false),
  // Not in the default set (--rows or --all): builds with TTHeader upstreams; connections per endpoint.
  sluiceRow("sluice-bun-ttheader-mux", "Sluice on Bun -> TTHeader mux (Kitex protobuf) -> demo backend", false),
  sluiceRow("sluice-bun-ttheader-pool", "Sluice on Bun -> TTHeader pingpong pool -> demo backend", false),
  sluiceRow("sluice-bun-no-access-log", "sluice-bun with logging.accessLog: false (builds with edge logging)", false),
  sluiceRow("sluice-bun-no-access-log-h2-sluice", "sluice-bun-no-access-log with http2Client: sluice", false),
  ...[1, 2, 4, 8].map((n) => sluiceRow(`sluice-bun-grpc-conns-${n}`, `Sluice on Bun -> gRPC with ${n} h2 connection(s) per endpoint`, false)),
  ...(["sluice-bun-fake-upstream", "sluice-bun-fake-upstream-no-access-log"] as const).map((name): WrkRow => ({
    kind: "wrk", name, what: `Sluice on Bun, upstream calls answered in-process (no upstream sockets)${name.endsWith("no-access-log") ? ", access log off" : ""}`,
    servers: [name], url: echo, body: SMALL_ECHO, cpuOf: name, ceiling: "hello-bun", default: false,
  })),
];
