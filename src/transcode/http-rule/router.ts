// HTTP router for google.api.http templates: one segment trie per HTTP method, built once.
// At each segment a literal beats `*`, which beats `**` (depth-first with backtracking,
// so the first complete match is the most specific one). A last segment containing ':'
// is first tried as `segment:verb` against templates with that verb, then as a plain
// segment, so `/v1/echo:stream` and `/v1/{id}` with id "a:b" both work.
// Custom kind "*" routes match any method, after the method's own routes.

import { decodeMulti, decodeSingle, normalizeSegment } from "./percent.ts";
import { templateShape, type PathTemplate } from "./path-template.ts";

/** What the router needs from a route. `HttpRoute` satisfies it. */
export interface RoutableRoute {
  readonly httpMethod: string;
  readonly template: PathTemplate;
  /** For conflict messages, e.g. the RPC name. */
  readonly name: string;
}

export type PathParams = Readonly<Record<string, string>>;

export interface RouteMatch<R> {
  readonly route: R;
  /** Decoded variable values by field path as written in the template ("book.name"). */
  readonly params: PathParams;
}

export type RouteLookup<R> =
  | { readonly kind: "match"; readonly route: R; readonly params: PathParams }
  /** The path matches routes, but none for this method: HTTP 405 with `Allow`. */
  | { readonly kind: "method_not_allowed"; readonly allow: readonly string[] }
  | { readonly kind: "not_found" }
  /** A route matched but a variable holds malformed percent-encoding (HTTP 400). */
  | { readonly kind: "bad_path"; readonly route: R; readonly message: string };

export interface RouteConflict<R> {
  readonly httpMethod: string;
  /** The route that was kept (registered first). */
  readonly first: R;
  /** The route that was dropped. */
  readonly second: R;
  readonly message: string;
}

export interface HttpRouter<R> {
  /** Full lookup, telling 404, 405 and malformed paths apart. `path` is the URL path (no query). */
  lookup(method: string, path: string): RouteLookup<R>;
  /** The matching route and its params, or undefined for any kind of miss. */
  match(method: string, path: string): RouteMatch<R> | undefined;
  /** Methods that have a route for this path (sorted); non-empty after a miss means 405. */
  allowedMethods(path: string): string[];
  /** Routes with the same method and an equivalent template as an earlier one (dropped). */
  readonly conflicts: readonly RouteConflict<R>[];
  readonly routes: readonly R[];
}

export const ANY_METHOD = "*";

interface Node<R> {
  literal: Map<string, Node<R>> | undefined;
  wildcard: Node<R> | undefined;
  /** Templates ending here, by verb ("" = none). */
  end: Map<string, R> | undefined;
  /** Templates whose final `**` starts here, by verb. */
  multi: Map<string, R> | undefined;
}

const newNode = <R>(): Node<R> => ({ literal: undefined, wildcard: undefined, end: undefined, multi: undefined });

function insert<R extends RoutableRoute>(root: Node<R>, route: R): R | undefined {
  let node = root;
  const { segments, verb } = route.template;
  for (const seg of segments) {
    if (seg.kind === "multi") {
      node.multi ??= new Map();
      const prev = node.multi.get(verb);
      if (prev === undefined) node.multi.set(verb, route);
      return prev;
    }
    if (seg.kind === "wildcard") {
      node = node.wildcard ??= newNode();
    } else {
      node.literal ??= new Map();
      let child = node.literal.get(seg.value);
      if (child === undefined) node.literal.set(seg.value, (child = newNode()));
      node = child;
    }
  }
  node.end ??= new Map();
  const prev = node.end.get(verb);
  if (prev === undefined) node.end.set(verb, route);
  return prev;
}

function walk<R>(node: Node<R>, segs: readonly string[], i: number, verb: string): R | undefined {
  if (i === segs.length) return node.end?.get(verb) ?? node.multi?.get(verb);
  const seg = segs[i] as string;
  if (node.literal !== undefined) {
    const child = node.literal.get(normalizeSegment(seg));
    if (child !== undefined) {
      const r = walk(child, segs, i + 1, verb);
      if (r !== undefined) return r;
    }
  }
  if (node.wildcard !== undefined && seg !== "") {
    const r = walk(node.wildcard, segs, i + 1, verb);
    if (r !== undefined) return r;
  }
  return node.multi?.get(verb);
}

interface Found<R> {
  route: R;
  segs: readonly string[];
}

function find<R>(root: Node<R> | undefined, segs: readonly string[]): Found<R> | undefined {
  if (root === undefined) return undefined;
  const last = segs[segs.length - 1];
  if (last !== undefined) {
    const colon = last.lastIndexOf(":");
    if (colon !== -1) {
      const verbSegs = segs.slice(0, -1);
      verbSegs.push(last.slice(0, colon));
      const route = walk(root, verbSegs, 0, normalizeSegment(last.slice(colon + 1)));
      if (route !== undefined) return { route, segs: verbSegs };
    }
  }
  const route = walk(root, segs, 0, "");
  return route === undefined ? undefined : { route, segs };
}

function splitPath(path: string): string[] | undefined {
  let end = path.length;
  const q = path.indexOf("?");
  if (q !== -1) end = q;
  const h = path.indexOf("#");
  if (h !== -1 && h < end) end = h;
  if (path.charCodeAt(0) !== 47 /* '/' */) return undefined;
  if (end === 1) return [];
  return path.slice(1, end).split("/");
}

/** Params for a matched route, or a message when an escape sequence is malformed. */
function extractParams(template: PathTemplate, segs: readonly string[]): Record<string, string> | string {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const v of template.variables) {
    const end = v.open ? segs.length : v.end;
    const raw = segs.slice(v.start, end).join("/");
    const value = v.multiSegment ? decodeMulti(raw) : decodeSingle(raw);
    if (value === undefined) return `malformed percent-encoding in path variable {${v.fieldPath}}: "${raw}"`;
    params[v.fieldPath] = value;
  }
  return params;
}

export function createHttpRouter<R extends RoutableRoute>(routes: readonly R[]): HttpRouter<R> {
  const tries = new Map<string, Node<R>>();
  const conflicts: RouteConflict<R>[] = [];
  for (const route of routes) {
    let root = tries.get(route.httpMethod);
    if (root === undefined) tries.set(route.httpMethod, (root = newNode()));
    const prev = insert(root, route);
    if (prev !== undefined) {
      conflicts.push({
        httpMethod: route.httpMethod,
        first: prev,
        second: route,
        message:
          `route conflict: ${route.httpMethod} ${route.template.source} (${route.name}) matches the same paths as ` +
          `${prev.httpMethod} ${prev.template.source} (${prev.name}) [${templateShape(route.template)}]; the first is kept`,
      });
    }
  }
  const anyRoot = tries.get(ANY_METHOD);

  function allowedMethods(path: string): string[] {
    const segs = splitPath(path);
    if (segs === undefined) return [];
    const allow: string[] = [];
    for (const [method, root] of tries) if (find(root, segs) !== undefined) allow.push(method);
    return allow.sort();
  }

  function findFor(method: string, segs: readonly string[]): Found<R> | undefined {
    return find(tries.get(method), segs) ?? (method === ANY_METHOD ? undefined : find(anyRoot, segs));
  }

  function lookup(method: string, path: string): RouteLookup<R> {
    const segs = splitPath(path);
    if (segs === undefined) return { kind: "not_found" };
    const found = findFor(method, segs);
    if (found === undefined) {
      const allow = allowedMethods(path);
      return allow.length > 0 ? { kind: "method_not_allowed", allow } : { kind: "not_found" };
    }
    const params = extractParams(found.route.template, found.segs);
    if (typeof params === "string") return { kind: "bad_path", route: found.route, message: params };
    return { kind: "match", route: found.route, params };
  }

  return {
    lookup,
    match(method, path) {
      const segs = splitPath(path);
      const found = segs === undefined ? undefined : findFor(method, segs);
      if (found === undefined) return undefined;
      const params = extractParams(found.route.template, found.segs);
      return typeof params === "string" ? undefined : { route: found.route, params };
    },
    allowedMethods,
    conflicts,
    routes,
  };
}
