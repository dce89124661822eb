// Path params + query + body -> one proto3 JSON object for the request message
// (feed it to fromJson(route.rpc.input, obj)). Rules from google/api/http.proto:
//   (a) fields matched in the URL template come from the path;
//   (b) fields covered by `body` ("*": everything not in (a); "f": everything under f);
//   (c) all other fields may come from query parameters.
// "URL query parameters found in the HTTP request are mapped to (c) fields" and "any body
// ... can contain only (b) fields". So a query parameter naming an (a) or (b) field, or
// any query parameter on a body:"*" route (no (c) fields exist), is unknown_field, as is
// a non-empty body on a route without `body`. Path values override the same field in
// the body (grpc-gateway does the same).

import type { DescField, JsonObject, JsonValue } from "@bufbuild/protobuf";
import { err, gatewayError, GrpcCode, ok, Reason, type GatewayError, type Result } from "../../core/index.ts";
import { describeField, fieldByName } from "./field-path.ts";
import { paramTargetOf, parseParam } from "./param-value.ts";
import type { HttpRoute } from "./route.ts";
import type { PathParams } from "./router.ts";

export interface BindOptions {
  /** Skip query parameters that name no query-bindable field instead of failing. */
  readonly ignoreUnknownQuery?: boolean;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function invalid(reason: string, field: string, description: string): GatewayError {
  return gatewayError(GrpcCode.INVALID_ARGUMENT, reason, description, {
    details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] }],
  });
}

/** Read a field from a JSON object under either name, dropping the proto-name alias. */
function take(obj: JsonObject, f: DescField): JsonValue | undefined {
  const v = obj[f.jsonName] ?? obj[f.name];
  if (f.name !== f.jsonName) delete obj[f.name];
  return v;
}

/** Set chain's leaf to value, copying (never mutating) the objects on the way. */
function setPath(root: JsonObject, chain: readonly DescField[], value: JsonValue, label: string): GatewayError | undefined {
  let cur = root;
  for (let i = 0; i < chain.length - 1; i++) {
    const f = chain[i] as DescField;
    const existing = take(cur, f);
    if (existing !== undefined && existing !== null && !isObject(existing)) {
      const at = chain.slice(0, i + 1).map((c) => c.name).join(".");
      return invalid(Reason.badField, at, `field "${at}" must be a JSON object (${label} sets "${chain.map((c) => c.name).join(".")}")`);
    }
    const next: JsonObject = existing === undefined || existing === null ? {} : { ...existing };
    cur[f.jsonName] = next;
    cur = next;
  }
  const leaf = chain[chain.length - 1] as DescField;
  if (leaf.name !== leaf.jsonName) delete cur[leaf.name];
  cur[leaf.jsonName] = value;
  return undefined;
}

function bindQueryParam(route: HttpRoute, out: JsonObject, name: string, raw: string, seen: Set<string>): GatewayError | undefined {
  if (route.body === "*") {
    return invalid(Reason.unknownField, name, `query parameter "${name}" cannot be bound: the route maps every field not in the path to the body (body: "*")`);
  }
  const parts = name.split(".");
  const chain: DescField[] = [];
  let msg = route.rpc.input;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const f = fieldByName(msg, part, true);
    if (f === undefined) return invalid(Reason.unknownField, name, `unknown query parameter "${name}": ${msg.typeName} has no field "${part}"`);
    chain.push(f);
    if (i === parts.length - 1) break;
    if (f.fieldKind !== "message") {
      const prefix = parts.slice(0, i + 1).join(".");
      if (f.fieldKind === "list" && f.listKind === "message") {
        return invalid(Reason.badField, name, `query parameter "${name}": "${prefix}" is a repeated message field; its fields cannot be set from the query`);
      }
      return invalid(Reason.unknownField, name, `unknown query parameter "${name}": "${prefix}" is a ${describeField(f)} and has no field "${parts[i + 1]}"`);
    }
    msg = f.message;
  }
  const canonical = chain.map((f) => f.name).join(".");
  if (chain[0] === route.bodyField) {
    return invalid(Reason.unknownField, name, `query parameter "${name}" is part of the request body (body: "${route.body}")`);
  }
  if (route.pathFieldSet.has(canonical)) {
    return invalid(Reason.unknownField, name, `query parameter "${name}" is bound by the URL path`);
  }
  const leaf = chain[chain.length - 1] as DescField;
  const target = paramTargetOf(leaf);
  if (target === undefined) {
    return invalid(Reason.badField, name, `query parameter "${name}" refers to a ${describeField(leaf)}; only scalar and enum fields (or repeated ones) can be set from the query, so set its fields as "${name}.<field>"`);
  }
  const value = parseParam(target, raw);
  if (!value.ok) return invalid(Reason.badField, name, `query parameter "${name}": ${value.error}`);
  if (leaf.fieldKind === "list") {
    // Containers on the way were created by this function (body fields are rejected above).
    let cur = out;
    for (let i = 0; i < chain.length - 1; i++) {
      const f = chain[i] as DescField;
      const next = cur[f.jsonName];
      cur = isObject(next) ? next : (cur[f.jsonName] = {});
    }
    const list = cur[leaf.jsonName];
    if (Array.isArray(list)) list.push(value.value);
    else cur[leaf.jsonName] = [value.value];
    return undefined;
  }
  if (seen.has(canonical)) {
    return invalid(Reason.badField, name, `query parameter "${name}" is given more than once but "${canonical}" is not a repeated field`);
  }
  seen.add(canonical);
  return setPath(out, chain, value.value, `query parameter "${name}"`);
}

/**
 * Build the proto3 JSON request object for `route` from the matched path params, the
 * query string and the parsed JSON body (undefined when there is none).
 */
export function bindRequest(
  route: HttpRoute,
  params: PathParams,
  query: URLSearchParams | undefined,
  body: unknown,
  options?: BindOptions,
): Result<JsonObject, GatewayError> {
  let out: JsonObject;
  if (route.body === "*") {
    if (body === undefined || body === null) out = {};
    else if (isObject(body)) out = { ...body };
    else return err(invalid(Reason.badJson, "", `request body must be a JSON object (${route.rpc.input.typeName})`));
  } else {
    out = {};
    if (route.bodyField !== undefined) {
      if (body !== undefined) out[route.bodyField.jsonName] = body as JsonValue;
    } else if (body !== undefined && body !== null && !(isObject(body) && Object.keys(body).length === 0)) {
      const first = isObject(body) ? (Object.keys(body)[0] ?? "") : "";
      return err(invalid(Reason.unknownField, first, `${route.httpMethod} ${route.pattern} takes no request body (its google.api.http rule has no "body"); send fields as query parameters`));
    }
  }

  if (query !== undefined) {
    const seen = new Set<string>();
    for (const [name, raw] of query) {
      const e = bindQueryParam(route, out, name, raw, seen);
      if (e === undefined) continue;
      if (e.reason === Reason.unknownField && options?.ignoreUnknownQuery === true) continue;
      return err(e);
    }
  }

  for (const pf of route.pathFields) {
    const raw = params[pf.fieldPath];
    if (raw === undefined) continue;
    const leaf = pf.fields[pf.fields.length - 1] as DescField;
    const target = paramTargetOf(leaf);
    if (target === undefined) continue; // unreachable: compileHttpRoute only allows scalar/enum leaves
    const value = parseParam(target, raw);
    if (!value.ok) return err(invalid(Reason.badField, pf.fieldPath, `path parameter {${pf.fieldPath}}: ${value.error}`));
    const e = setPath(out, pf.fields, value.value, `path parameter {${pf.fieldPath}}`);
    if (e !== undefined) return err(e);
  }
  return ok(out);
}
