import { bunRuntime } from "../runtime/bun/runtime.ts";
import { main } from "./main.ts";

await main(bunRuntime);
