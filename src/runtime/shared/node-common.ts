// Platform services that all three runtimes provide through node:* modules.
import fs from "node:fs/promises";
import process from "node:process";
import type { SignalName } from "../types.ts";

export async function readFile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await fs.readFile(path));
}

export function readTextFile(path: string): Promise<string> {
  return fs.readFile(path, "utf8");
}

export function env(name: string): string | undefined {
  return process.env[name];
}

export function onSignal(signal: SignalName, fn: () => void): () => void {
  process.on(signal, fn);
  return () => { process.off(signal, fn); };
}

export function memoryRss(): number {
  return process.memoryUsage.rss();
}

export function exit(code: number): never {
  process.exit(code);
}

export function args(): string[] {
  return process.argv.slice(2);
}
