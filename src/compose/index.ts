export * from "./upstreams.ts";
export * from "./routes.ts";
