export * from "./envelope.ts";
export * from "./timeout.ts";
export * from "./status.ts";
