// Reading `option (google.api.http)` (extension 72295728 on google.protobuf.MethodOptions,
// google/api/annotations.proto) from every method in a registry.

import { getExtension, hasExtension, toJson, type DescMethod, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { compileHttpRoute, ruleError, type HttpRoute, type HttpRuleError, type HttpRuleSpec } from "./route.ts";

export const HTTP_EXTENSION_NAME = "google.api.http";

const PATTERN_KINDS = [
  ["get", "GET"],
  ["put", "PUT"],
  ["post", "POST"],
  ["delete", "DELETE"],
  ["patch", "PATCH"],
] as const;

export interface HttpRulesResult<T> {
  readonly items: T[];
  readonly errors: HttpRuleError[];
}

export interface RpcRule {
  readonly rpc: DescMethod;
  readonly spec: HttpRuleSpec;
}

function str(o: Record<string, JsonValue>, key: string): string {
  const v = o[key];
  return typeof v === "string" ? v : "";
}

function isObject(v: JsonValue | undefined): v is Record<string, JsonValue> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Flatten one HttpRule (as proto3 JSON) into specs; nested additional_bindings are an error. */
function specsOf(rpc: DescMethod, rule: Record<string, JsonValue>, out: HttpRulesResult<RpcRule>, bindingIndex: number): void {
  const patterns: [string, string][] = [];
  for (const [key, method] of PATTERN_KINDS) if (key in rule) patterns.push([method, str(rule, key)]);
  const custom = rule["custom"];
  if (isObject(custom)) patterns.push([str(custom, "kind"), str(custom, "path")]);
  const where = { httpMethod: "", path: "", bindingIndex };
  const [pattern] = patterns;
  if (pattern === undefined) {
    out.errors.push(ruleError(rpc, where, "no pattern set (one of get, put, post, delete, patch, custom)"));
  } else {
    const [httpMethod, path] = pattern;
    if (httpMethod === "") {
      out.errors.push(ruleError(rpc, where, "custom pattern without a kind"));
    } else if (path === "") {
      out.errors.push(ruleError(rpc, { ...where, httpMethod }, `${httpMethod} pattern with an empty path`));
    } else {
      out.items.push({ rpc, spec: { httpMethod, path, body: str(rule, "body"), responseBody: str(rule, "responseBody"), bindingIndex } });
    }
  }
  const extra = rule["additionalBindings"];
  if (Array.isArray(extra) && extra.length > 0) {
    if (bindingIndex > 0) {
      out.errors.push(ruleError(rpc, where, "additional_bindings must not contain additional_bindings (nesting is one level deep)"));
      return;
    }
    extra.forEach((b, i) => {
      if (isObject(b)) specsOf(rpc, b, out, i + 1);
    });
  }
}

/** Every google.api.http binding in the registry, in registry order. */
export function readHttpRules(registry: Registry): HttpRulesResult<RpcRule> {
  const out: HttpRulesResult<RpcRule> = { items: [], errors: [] };
  const ext = registry.getExtension(HTTP_EXTENSION_NAME);
  // No file in the set imports google/api/annotations.proto: no annotated methods.
  if (ext === undefined || ext.fieldKind !== "message") return out;
  for (const type of registry) {
    if (type.kind !== "service") continue;
    for (const rpc of type.methods) {
      const options = rpc.proto.options;
      if (options === undefined || !hasExtension(options, ext)) continue;
      const value = getExtension(options, ext) as Message;
      const json = toJson(ext.message, value);
      if (isObject(json)) specsOf(rpc, json, out, 0);
    }
  }
  return out;
}

/** Read and validate every binding; invalid ones are reported in `errors` and left out. */
export function loadHttpRoutes(registry: Registry): HttpRulesResult<HttpRoute> {
  const rules = readHttpRules(registry);
  const out: HttpRulesResult<HttpRoute> = { items: [], errors: [...rules.errors] };
  for (const { rpc, spec } of rules.items) {
    const r = compileHttpRoute(rpc, spec);
    if (r.ok) out.items.push(r.value);
    else out.errors.push(r.error);
  }
  return out;
}
