export * from "./registry.ts";
export * from "./json-codec.ts";
export * from "./status-details.ts";
export * from "./stream-format.ts";
export * from "./http-rule/index.ts";
export * from "./json-writer.ts";
