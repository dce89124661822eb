export type * from "./types.ts";
export { detectRuntime } from "./detect.ts";
export { waitForDrain, type DrainEmitter } from "./drain.ts";
