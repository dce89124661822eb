export * from "./codes.ts";
export * from "./errors.ts";
export * from "./signals.ts";
export * from "./backoff.ts";
export * from "./event.ts";
export * from "./bytes.ts";
export * from "./result.ts";
export * from "./clock.ts";
export type * from "./method-ref.ts";
