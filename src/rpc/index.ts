export * from "./upstream-group.ts";
export * from "./invoker.ts";
