// The SIGTERM sequence: not ready at once, keep serving through the drain delay (so load balancers
// and Kubernetes endpoints stop sending), then stop accepting, let in-flight requests finish up to a
// timeout, close upstream connections. The caller exits 0 afterwards.
import { sleep } from "../core/index.ts";
import type { Logger } from "../observability/index.ts";

/** The gateway as the shutdown sequence sees it (structural: gateway.ts is a sibling at L5). */
export interface Drainable {
  readonly inFlight: number;
  markDraining(): void;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

export interface ShutdownOptions {
  /** Keep serving this long after /readyz turned 503. */
  readonly drainDelayMs: number;
  /** Then wait at most this long for requests in flight. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Why (e.g. "SIGTERM"), for the log. */
  readonly cause: string;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function gracefulShutdown(gw: Drainable, o: ShutdownOptions): Promise<void> {
  gw.markDraining();
  o.logger.info("shutdown: draining", { cause: o.cause, drain_delay_ms: o.drainDelayMs, timeout_ms: o.timeoutMs, in_flight: gw.inFlight });
  if (o.drainDelayMs > 0) await (o.sleep ?? sleep)(o.drainDelayMs);
  o.logger.info("shutdown: stopping", { in_flight: gw.inFlight });
  await gw.stop({ timeoutMs: o.timeoutMs });
}
