// Endpoints the gateway answers itself: liveness, readiness, Prometheus metrics, upstream stats.
import type { Env, Hono } from "hono";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/index.ts";

export const ADMIN_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics", "/admin/upstreams"]);

export interface AdminDeps {
  /** Serving and not draining. */
  readonly ready: () => boolean;
  readonly upstreams: () => unknown;
  /** Prometheus text; absent: no /metrics. */
  readonly metrics?: () => string;
}

export function mountAdmin<E extends Env>(app: Hono<E>, deps: AdminDeps): void {
  // Alive as long as the process answers: never depends on upstreams (a liveness failure restarts the pod).
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // 503 before warm-up finished and from the first moment of a drain.
  app.get("/readyz", (c) => (deps.ready() ? c.json({ status: "ready" }) : c.json({ status: "not ready" }, 503)));
  app.get("/admin/upstreams", (c) => c.json(deps.upstreams() as Record<string, unknown>));
  const metrics = deps.metrics;
  if (metrics !== undefined) {
    app.get("/metrics", () => new Response(metrics(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }));
  }
}
