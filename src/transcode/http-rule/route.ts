// One HTTP binding of an RPC, validated against the request/response descriptors.
// Rules from google/api/http.proto: path variables refer to singular primitive fields
// (no repeated, map or message fields); `body` is "*" or a top-level request field;
// `response_body` is a top-level response field.

import type { DescField, DescMethod } from "@bufbuild/protobuf";
import { err, ok, type Result } from "../../core/index.ts";
import { describeField, fieldByName, resolveFieldPath } from "./field-path.ts";
import { parsePathTemplate, type PathTemplate, type TemplateVariable } from "./path-template.ts";

/** One binding as written in a google.api.http rule (additional_bindings flattened). */
export interface HttpRuleSpec {
  /** GET, PUT, POST, DELETE, PATCH, or a custom kind as written ("*" = any method). */
  readonly httpMethod: string;
  readonly path: string;
  /** "" (no body), "*" or a top-level request field name. */
  readonly body: string;
  /** "" (whole reply) or a top-level response field name. */
  readonly responseBody: string;
  /** 0 for the rule itself, n for additional_bindings[n - 1]. */
  readonly bindingIndex: number;
}

export interface PathField {
  readonly fieldPath: string;
  /** Field chain from the request message to the (scalar or enum) leaf. */
  readonly fields: readonly DescField[];
  readonly variable: TemplateVariable;
}

export interface HttpRoute {
  /** Fully-qualified RPC name, "pkg.Service.Method". */
  readonly name: string;
  readonly rpc: DescMethod;
  readonly httpMethod: string;
  /** The template text. */
  readonly pattern: string;
  readonly template: PathTemplate;
  readonly bindingIndex: number;
  readonly body: string;
  readonly bodyField: DescField | undefined;
  readonly responseBody: string;
  readonly responseBodyField: DescField | undefined;
  readonly pathFields: readonly PathField[];
  /** Proto-name field paths bound by the template, e.g. "book.name". */
  readonly pathFieldSet: ReadonlySet<string>;
}

export interface HttpRuleError {
  /** Fully-qualified RPC name. */
  readonly method: string;
  /** "GET /v1/..." when the binding has a pattern, else "". */
  readonly pattern: string;
  /** Self-contained description naming the method, the binding and the problem. */
  readonly message: string;
}

export function rpcName(rpc: DescMethod): string {
  return `${rpc.parent.typeName}.${rpc.name}`;
}

export function ruleError(rpc: DescMethod, spec: Pick<HttpRuleSpec, "httpMethod" | "path" | "bindingIndex"> | undefined, problem: string): HttpRuleError {
  const method = rpcName(rpc);
  const pattern = spec && spec.path !== "" ? `${spec.httpMethod} ${spec.path}` : "";
  const where = spec && spec.bindingIndex > 0 ? ` additional_bindings[${spec.bindingIndex - 1}]` : "";
  const message = `google.api.http on ${method}${where}${pattern ? ` (${pattern})` : ""}: ${problem}`;
  return { method, pattern, message };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 9110 section 5.6.2

export function compileHttpRoute(rpc: DescMethod, spec: HttpRuleSpec): Result<HttpRoute, HttpRuleError> {
  const fail = (problem: string) => err(ruleError(rpc, spec, problem));
  if (!TOKEN.test(spec.httpMethod)) return fail(`invalid HTTP method "${spec.httpMethod}"`);
  const parsed = parsePathTemplate(spec.path);
  if (!parsed.ok) return fail(`invalid path template "${spec.path}" at offset ${parsed.error.offset}: ${parsed.error.message}`);
  const template = parsed.value;
  const input = rpc.input;

  const pathFields: PathField[] = [];
  for (const v of template.variables) {
    const chain = resolveFieldPath(input, v.path);
    if (!chain.ok) return fail(`path variable {${v.fieldPath}}: ${chain.error}`);
    const leaf = chain.value[chain.value.length - 1] as DescField;
    if (leaf.fieldKind !== "scalar" && leaf.fieldKind !== "enum") {
      return fail(`path variable {${v.fieldPath}} refers to a ${describeField(leaf)}; path variables must be singular scalar or enum fields`);
    }
    pathFields.push({ fieldPath: v.fieldPath, fields: chain.value, variable: v });
  }

  let bodyField: DescField | undefined;
  if (spec.body !== "" && spec.body !== "*") {
    bodyField = fieldByName(input, spec.body, false);
    if (bodyField === undefined) return fail(`body "${spec.body}": ${input.typeName} has no top-level field "${spec.body}"`);
    for (const p of pathFields) {
      if (p.fieldPath === spec.body) return fail(`field "${spec.body}" is bound by both the path and the body`);
    }
  }

  let responseBodyField: DescField | undefined;
  if (spec.responseBody !== "") {
    responseBodyField = fieldByName(rpc.output, spec.responseBody, false);
    if (responseBodyField === undefined) {
      return fail(`response_body "${spec.responseBody}": ${rpc.output.typeName} has no top-level field "${spec.responseBody}"`);
    }
  }

  return ok({
    name: rpcName(rpc),
    rpc,
    httpMethod: spec.httpMethod,
    pattern: spec.path,
    template,
    bindingIndex: spec.bindingIndex,
    body: spec.body,
    bodyField,
    responseBody: spec.responseBody,
    responseBodyField,
    pathFields,
    pathFieldSet: new Set(pathFields.map((p) => p.fieldPath)),
  });
}
