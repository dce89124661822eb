import type { Runtime, ServeOptions, ServerHandle } from "../types.ts";
import { commonRuntime } from "../shared/common-runtime.ts";

async function serve(o: ServeOptions): Promise<ServerHandle> {
  const server = Bun.serve({
    port: o.port,
    hostname: o.hostname,
    maxRequestBodySize: o.maxRequestBodySize ?? 64 * 1024 * 1024,
    idleTimeout: o.idleTimeoutSec ?? 30,
    // Lazy: requestIP is a getpeername syscall, needed only by per-client rate limits.
    fetch: (req, srv) =>
      o.fetch(req, {
        get remoteAddress() {
          return srv.requestIP(req)?.address ?? "";
        },
      }),
    error: (err) =>
      new Response(JSON.stringify({ code: "INTERNAL", message: String(err.message) }), {
        status: 500,
        headers: { "content-type": "application/json" },
      }),
  });
  return {
    hostname: server.hostname,
    port: server.port,
    stop: (force) => server.stop(force ?? false),
  };
}

export const bunRuntime: Runtime = { name: "bun", serve, ...commonRuntime };
