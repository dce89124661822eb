import type { Runtime } from "../types.ts";
import { connectTcp, listenTcp } from "./node-net.ts";
import { openH2Session, serveH2 } from "./node-http2.ts";
import { flushingCompressors } from "./flushing-compressor.ts";
import { args, env, exit, memoryRss, onSignal, readFile, readTextFile } from "./node-common.ts";
import { resolveDns } from "./node-dns.ts";

/** Everything but serve(), which each runtime does its own way. */
export const commonRuntime: Omit<Runtime, "name" | "serve"> = {
  connectTcp, listenTcp, openH2Session, serveH2, resolveDns, readFile, readTextFile, env, onSignal, memoryRss, exit, args,
  streamCompressors: flushingCompressors,
};
