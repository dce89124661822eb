export { createApp, type AppDeps, type RouteLookup, type RouteMatch } from "./app.ts";
export { errorBody, errorResponse, type ErrorBody, type ErrorBodyOptions } from "./error-response.ts";
export type { Binder, RpcHandlerDeps, RpcTarget } from "./rpc-handler.ts";
