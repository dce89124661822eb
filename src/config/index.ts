export { DEFAULTS } from "./defaults.ts";
export { configSchema, type Config, type ConfigInput, type RouteConfig, type UpstreamConfig } from "./schema.ts";
export { ConfigError, parseConfig, parseConfigText } from "./load.ts";
export type {
  AuthConfig,
  AuthKeyConfig,
  CorsConfig,
  HeadersConfig,
  LoggingConfig,
  ReloadConfig,
  RouteAuthConfig,
  ShutdownConfig,
  TracingConfig,
} from "./edge-schema.ts";
