export * from "./upstream-group.ts";
export * from "./invoker.ts";
export * from "./call-policy.ts";
export * from "./stream-admission.ts";
