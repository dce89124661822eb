import type { Runtime, ServeOptions, ServerHandle } from "../types.ts";
import { commonRuntime } from "../shared/common-runtime.ts";

function serve(o: ServeOptions): Promise<ServerHandle> {
  return new Promise((resolve) => {
    const ac = new AbortController();
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
              if (force) ac.abort();
              else await server.shutdown();
            },
          }),
      },
      (req, info) => o.fetch(req, { remoteAddress: info.remoteAddr.hostname }),
    );
  });
}

export const denoRuntime: Runtime = { name: "deno", serve, ...commonRuntime };
