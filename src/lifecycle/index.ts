export { ConfigReloader, type ConfigReloaderOptions, type ReloadOutcome } from "./config-reloader.ts";
export { gracefulShutdown, type Drainable, type ShutdownOptions } from "./shutdown.ts";
