import type { TTHeaderLimits } from "../../protocol/ttheader/index.ts";
import type { Runtime } from "../../runtime/index.ts";

/** Options for one TTHeader connection (mux or pingpong). */
export interface TTHeaderConnectionOptions {
  /** The runtime's TCP connect function, injected (structural `Runtime["connectTcp"]`). */
  readonly connectTcp: Runtime["connectTcp"];
  readonly host: string;
  readonly port: number;
  /** Default 2000 ms. Kitex's own default is 50 ms (spec §3), too tight across a WAN. */
  readonly connectTimeoutMs?: number;
  /** TCP keepalive initial delay in ms; 0 disables. Default 60000. */
  readonly keepAliveMs?: number;
  /** Default true. */
  readonly noDelay?: boolean;
  /** Frame and header limits for both directions (defaults: 16 MiB frames, 65532-byte headers). */
  readonly limits?: Partial<TTHeaderLimits>;
  /** Caller service name, int header 3 (FromService). */
  readonly fromService?: string;
  /** Caller method, int header 20 (FromMethod). */
  readonly fromMethod?: string;
  /** Callee service name, int header 6 (ToService). Default: the called method's full service name. */
  readonly toService?: string;
  /** Send `isn` (short IDL service name, §1.6/§2.3) so multi-service servers route right. Default true. */
  readonly sendIsn?: boolean;
  /** Mux only: most calls in flight at once. Default 10000. Pingpong is always 1. */
  readonly capacity?: number;
  /** Connection id for stats and logs; default from a process-wide counter. */
  readonly id?: number;
  /** Clock (ms since epoch) for deadlines and stats. */
  readonly now?: () => number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
export const DEFAULT_KEEPALIVE_MS = 60_000;
export const DEFAULT_MUX_CAPACITY = 10_000;

let lastId = 0;
export function nextConnectionId(): number {
  lastId = lastId >= Number.MAX_SAFE_INTEGER ? 1 : lastId + 1;
  return lastId;
}
