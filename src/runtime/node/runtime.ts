import { createAdaptorServer } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Runtime, ServeOptions, ServerHandle } from "../types.ts";
import { commonRuntime } from "../shared/common-runtime.ts";

function serve(o: ServeOptions): Promise<ServerHandle> {
  const server = createAdaptorServer({
    fetch: (req: Request, env: { incoming?: { socket?: { remoteAddress?: string } } }) =>
      o.fetch(req, { remoteAddress: env.incoming?.socket?.remoteAddress ?? "" }),
    hostname: o.hostname,
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.hostname, () => {
      const a = server.address() as AddressInfo;
      resolve({
        hostname: a.address,
        port: a.port,
        stop: (force) =>
          new Promise<void>((res) => {
            server.close(() => res());
            const s = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
            if (force) s.closeAllConnections?.();
            else s.closeIdleConnections?.();
          }),
      });
    });
  });
}

export const nodeRuntime: Runtime = { name: "node", serve, ...commonRuntime };
