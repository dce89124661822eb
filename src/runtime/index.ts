export type * from "./types.ts";
export { detectRuntime } from "./detect.ts";
