// The hono app: health, admin, and the RPC routes (generic /pkg.Service/Method and google.api.http).
import { Hono, type Context } from "hono";
import type { JsonValue } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import type { MethodInfo } from "../transcode/index.ts";
import { ADMIN_PATHS, mountAdmin } from "./admin.ts";
import { errorResponse } from "./error-response.ts";
import { createHeaderPolicy } from "./header-policy.ts";
import { corsMiddleware, type CorsOptions } from "./middleware/cors.ts";
import { directDispatch } from "./direct-dispatch.ts";
import { requestScopeMiddleware, scopeOf, serveScoped, type EdgeDeps, type RequestScope } from "./middleware/request-scope.ts";
import { handleRpc, type Binder, type RpcHandlerDeps, type RpcTarget } from "./rpc-handler.ts";
import { knownBody } from "./sized-response.ts";

/** A matched annotated route: the method and how to build the request message from the HTTP request. */
export interface RouteMatch {
  readonly method: MethodInfo;
  /** Builds the message JSON from the parsed body (path and query already captured). */
  readonly bind: Binder;
  /** Picks the reply part to return (response_body); identity when absent. */
  readonly selectResponse?: (json: JsonValue) => JsonValue;
}

export type RouteLookup =
  | { readonly kind: "match"; readonly match: RouteMatch }
  | { readonly kind: "method_not_allowed"; readonly allowed: readonly string[] }
  | { readonly kind: "none" };

export interface AppDeps extends RpcHandlerDeps {
  /** "/pkg.Service/Method" -> method, for the generic route. */
  readonly methods: ReadonlyMap<string, MethodInfo>;
  /** google.api.http routes. */
  readonly lookupRoute: (httpMethod: string, url: URL) => RouteLookup;
  /** Upstream and policy for a method; undefined when no upstream serves it. */
  readonly target: (method: MethodInfo) => Omit<RpcTarget, "method"> | undefined;
  readonly ready: () => boolean;
  readonly admin: { upstreams: () => unknown; metrics?: () => string };
  /** Request scope: request id, trace context, header policy, auth, observer. Default: ids and forwardHeaders only. */
  readonly edge?: EdgeDeps;
  readonly cors?: CorsOptions;
}

// A package-qualified service ("pkg.Service") and a method name.
const GENERIC = /^\/([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\/([A-Za-z_]\w*)$/;

/** Bindings the runtime passes to app.fetch (see runtime ServeOptions.fetch). */
type Env = { Bindings: { remoteAddress?: string } };

/** The ids for error bodies and the client address, read (a syscall on Bun) only when a rate limit needs it. */
class RequestIds {
  readonly requestId: string;
  readonly traceId: string;
  readonly #env: Env["Bindings"] | undefined;
  readonly #scope: RequestScope;

  constructor(scope: RequestScope, env: Env["Bindings"] | undefined) {
    this.requestId = scope.ids.requestId;
    this.traceId = scope.ids.traceId;
    this.#env = env;
    this.#scope = scope;
  }

  /** When the request arrived: deadlines count from here, not from the end of the body. */
  get receivedAt(): number {
    return this.#scope.receivedAt;
  }

  get clientAddress(): string | undefined {
    return this.#env?.remoteAddress;
  }

  /** The verified token's claims (rate-limit keys `claim:<name>`). */
  get claims() {
    return this.#scope.claims;
  }
}

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const edge: EdgeDeps = { adminPaths: ADMIN_PATHS, ...(deps.edge ?? { headerPolicy: createHeaderPolicy({ forward: deps.forwardHeaders }) }) };
  const scopeMiddleware = requestScopeMiddleware(edge);
  app.use("*", scopeMiddleware);
  if (deps.cors) app.use("*", corsMiddleware(deps.cors));
  mountAdmin(app, { ready: deps.ready, upstreams: deps.admin.upstreams, ...(deps.admin.metrics ? { metrics: deps.admin.metrics } : {}) });
  const rpcRoute = (c: Context<Env>) => serveRpc(c.req.raw, c.env, scopeOf(c.req.raw, edge), deps);
  app.all("*", rpcRoute);
  const onError = (e: Error) => errorResponse(e);
  app.onError(onError);
  // The same handling without hono's per-request Context and dispatch, for the requests it would
  // route to exactly the scope middleware and the RPC route (bench/README.md).
  directDispatch(app, {
    chain: [scopeMiddleware, rpcRoute],
    serve: (req, env) => serveScoped(req, edge, (scope) => serveRpc(req, env, scope, deps), onError),
  });
  return app;
}

/** The RPC route: resolve the method (annotated route or /pkg.Service/Method), authenticate, call upstream. */
async function serveRpc(req: Request, env: Env["Bindings"] | undefined, scope: RequestScope, deps: AppDeps): Promise<Response> {
  const ids = new RequestIds(scope, env);
  const respHeaders = { "x-request-id": scope.requestId };
  const url = scope.url;
  let method: MethodInfo | undefined;
  let bind: Binder = (body) => body as JsonValue;
  let select: RouteMatch["selectResponse"];
  let found: RouteLookup;
  try {
    found = deps.lookupRoute(req.method, url);
  } catch (e) {
    return errorResponse(e, ids, respHeaders);
  }
  if (found.kind === "match") {
    method = found.match.method;
    bind = found.match.bind;
    select = found.match.selectResponse;
  } else if (found.kind === "method_not_allowed") {
    return errorResponse(
      new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: Reason.methodNotAllowed, message: `${req.method} is not allowed for ${url.pathname}; allowed: ${found.allowed.join(", ")}` }),
      ids,
      { ...respHeaders, allow: found.allowed.join(", ") },
    );
  } else {
    const g = GENERIC.exec(url.pathname);
    if (!g) {
      return errorResponse(new GatewayError({ code: GrpcCode.NOT_FOUND, reason: Reason.routeNotFound, message: `no route for ${req.method} ${url.pathname}` }), ids, respHeaders);
    }
    method = deps.methods.get(url.pathname);
    if (!method) {
      return errorResponse(
        new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: Reason.methodNotFound, message: `unknown method ${g[1]}/${g[2]}` }),
        ids,
        respHeaders,
      );
    }
    if (req.method !== "POST") {
      return errorResponse(new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: Reason.methodNotAllowed, message: `use POST for ${url.pathname}` }), ids, { ...respHeaders, allow: "POST" });
    }
  }
  const t = deps.target(method);
  if (!t) {
    return errorResponse(
      new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: Reason.methodNotFound, message: `no upstream serves ${method.ref.service}` }),
      ids,
      respHeaders,
    );
  }
  const entering = scope.enter(method, t.group.name);
  if (entering !== undefined) {
    const denied = await entering;
    if (denied) return denied;
  }
  scope.rpcStarted();
  let res: Response;
  try {
    res = await handleRpc(req, { method, ...t }, bind, deps, ids, scope.metadata(), select);
  } finally {
    scope.rpcEnded();
  }
  // The request scope adds x-request-id too; set here as well (unless the reply was built with it) so a
  // response that replaces this one after a failed body read still carries it (hono keeps its headers).
  if (knownBody(res)?.requestId !== scope.requestId) res.headers.set("x-request-id", scope.requestId);
  return res;
}
