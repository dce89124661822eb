// A direct path past hono for the requests its router sends to one fixed handler chain (the request
// scope middleware, then the RPC route): they are served by `serve`, which does what that chain does
// through hono, without hono's per-request Context, HonoRequest and compose promises (bench/README.md
// has the cost). The router still decides: anything else it matches (admin paths, CORS middleware, a
// route added later) keeps going through hono, and so does HEAD (hono answers it as a GET without body).
import type { Env, Hono } from "hono";

export interface DirectDispatchOptions<E extends Env> {
  /** The handlers, in order, that a request must match exactly (as registered with use/all). */
  readonly chain: readonly unknown[];
  readonly serve: (req: Request, env: E["Bindings"]) => Promise<Response>;
}

/** One router match: [[handler, route], params] entries (hono's Router.match result, first element). */
type Matched = readonly (readonly [readonly [unknown, unknown], unknown])[];

/** Replaces `app.fetch` (which app.request() also calls) with the direct path in front of hono's own. */
export function directDispatch<E extends Env>(app: Hono<E>, o: DirectDispatchOptions<E>): void {
  const honoFetch = app.fetch;
  const chain = o.chain;
  const direct = (req: Request, env: E["Bindings"] | undefined): boolean => {
    const method = req.method;
    if (method === "HEAD") return false;
    const handlers = (app.router.match(method, app.getPath(req, { env })) as unknown as [Matched])[0];
    if (handlers.length !== chain.length) return false;
    for (let i = 0; i < chain.length; i++) if (handlers[i]![0][0] !== chain[i]) return false;
    return true;
  };
  app.fetch = (req, env, executionCtx) => (direct(req, env) ? o.serve(req, env as E["Bindings"]) : honoFetch(req, env, executionCtx));
}
