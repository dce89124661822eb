import { nodeRuntime } from "../runtime/node/runtime.ts";
import { main } from "./main.ts";

await main(nodeRuntime);
