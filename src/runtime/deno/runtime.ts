import type { Runtime, ServeOptions, ServerHandle } from "../types.ts";
import { commonRuntime } from "../shared/common-runtime.ts";

/**
 * Deno.serve's two ways to stop don't combine: shutdown() (graceful) takes the server's resource,
 * and aborting the serve signal afterwards makes Deno's own abort listener throw an uncaught
 * BadResource, which kills the process (seen on Deno 2.9 with a client still sending a body at
 * stop time). So a forced stop aborts only while no graceful shutdown has begun; once one has,
 * Deno offers no way to cut the connections left, and they end with the process.
 */
function serve(o: ServeOptions): Promise<ServerHandle> {
  return new Promise((resolve) => {
    const ac = new AbortController();
    let graceful: Promise<void> | undefined;
    let forced = false;
    const server = Deno.serve(
      {
        port: o.port,
        hostname: o.hostname,
        signal: ac.signal,
        onListen: (a) =>
          resolve({
            hostname: a.hostname,
            port: a.port,
            stop: async (force) => {
              if (!force) {
                graceful ??= server.shutdown().catch(() => {});
                return graceful;
              }
              if (graceful !== undefined || forced) return;
              forced = true;
              ac.abort();
              await server.finished;
            },
          }),
      },
      (req, info) => o.fetch(req, { remoteAddress: info.remoteAddr.hostname }),
    );
    // Nobody else awaits it: a failing serve loop must not surface as an unhandled rejection.
    server.finished.catch(() => {});
  });
}

export const denoRuntime: Runtime = { name: "deno", serve, ...commonRuntime };
