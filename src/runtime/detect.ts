// Picks the adapter for the runtime we are on. Used by entries and tests; lower layers get a Runtime passed in.
import type { Runtime } from "./types.ts";

export async function detectRuntime(): Promise<Runtime> {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return (await import("./bun/runtime.ts")).bunRuntime;
  if (g.Deno !== undefined) return (await import("./deno/runtime.ts")).denoRuntime;
  return (await import("./node/runtime.ts")).nodeRuntime;
}
