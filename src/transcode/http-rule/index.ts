// google.api.http rules: reading annotations, path templates, routing, request binding
// and response_body selection.
export { parsePathTemplate, templateShape } from "./path-template.ts";
export type { PathTemplate, SegmentMatcher, TemplateError, TemplateVariable } from "./path-template.ts";
export { compileHttpRoute, rpcName } from "./route.ts";
export type { HttpRoute, HttpRuleError, HttpRuleSpec, PathField } from "./route.ts";
export { HTTP_EXTENSION_NAME, loadHttpRoutes, readHttpRules } from "./read-rules.ts";
export type { HttpRulesResult, RpcRule } from "./read-rules.ts";
export { ANY_METHOD, createHttpRouter } from "./router.ts";
export type { HttpRouter, PathParams, RoutableRoute, RouteConflict, RouteLookup, RouteMatch } from "./router.ts";
export { bindRequest } from "./bind-request.ts";
export type { BindOptions } from "./bind-request.ts";
export { selectResponseBody } from "./response-body.ts";
export { paramTargetOf, parseParam } from "./param-value.ts";
export type { ParamTarget } from "./param-value.ts";
