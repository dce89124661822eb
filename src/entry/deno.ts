import { denoRuntime } from "../runtime/deno/runtime.ts";
import { main } from "./main.ts";

await main(denoRuntime);
