// CORS (Fetch standard, "CORS protocol") on hono's middleware; preflights are answered here,
// before routing and auth.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

export interface CorsOptions {
  /** "*" or exact origins. */
  readonly origins: "*" | readonly string[];
  /** Default: GET, HEAD, PUT, POST, DELETE, PATCH. */
  readonly methods?: readonly string[];
  /** Default: whatever the preflight's Access-Control-Request-Headers asks for. */
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly credentials?: boolean;
  readonly maxAgeSec?: number;
}

export function corsMiddleware(o: CorsOptions): MiddlewareHandler {
  const origins = o.origins;
  return cors({
    origin: origins === "*" ? "*" : (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: [...(o.methods ?? ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"])],
    ...(o.allowHeaders !== undefined ? { allowHeaders: [...o.allowHeaders] } : {}),
    ...(o.exposeHeaders !== undefined ? { exposeHeaders: [...o.exposeHeaders] } : {}),
    ...(o.credentials ? { credentials: true } : {}),
    ...(o.maxAgeSec !== undefined ? { maxAge: o.maxAgeSec } : {}),
  });
}
