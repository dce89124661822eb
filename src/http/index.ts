export { createApp, type AppDeps, type RouteLookup, type RouteMatch } from "./app.ts";
export { errorBody, errorResponse, type ErrorBody, type ErrorBodyOptions } from "./error-response.ts";
export type { Binder, RpcHandlerDeps, RpcTarget } from "./rpc-handler.ts";
export { ADMIN_PATHS, mountAdmin, type AdminDeps } from "./admin.ts";
export { createHeaderPolicy, type HeaderPolicy, type HeaderPolicyOptions } from "./header-policy.ts";
export { createAuthGate, type AuthCheck, type AuthGate, type AuthGateOptions } from "./middleware/auth.ts";
export { corsMiddleware, type CorsOptions } from "./middleware/cors.ts";
export { RequestScope, requestScopeMiddleware, scopeOf, type EdgeDeps } from "./middleware/request-scope.ts";
export { GatewayMetrics, type AttemptLike, type GroupStatsLike, type MetricsSources, type PoolStatsLike } from "./telemetry/gateway-metrics.ts";
export { accessLogFields, accessLogLevel } from "./telemetry/access-log.ts";
export { createRequestObserver, type RequestObserverOptions } from "./telemetry/request-observer.ts";
export { requestSpans } from "./telemetry/request-spans.ts";
export type { RequestObserver, RequestOutcome, RequestRecord } from "./telemetry/request-record.ts";
export {
  createClaimForwarder,
  createJwtVerifier,
  type AuthRequirement,
  type ClaimForwarder,
  type JwsAlgorithm,
  type JwtVerifier,
  type JwtVerifierOptions,
  type StaticKeyConfig,
} from "./auth/index.ts";
export { authRequirement, corsOptions, verifierOptions, type SecretSource } from "./edge-config.ts";
export { InFlight } from "./in-flight.ts";
export { createEdgeDeps, type EdgeDepsOptions, type EdgeGeneration, type VerifierHandle } from "./edge-deps.ts";
export { createEdgeTelemetry, type EdgeTelemetry, type EdgeTelemetryOptions } from "./telemetry/edge-telemetry.ts";
