// Path templates of google.api.HttpRule. Grammar (googleapis google/api/http.proto):
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
// `{var}` is `{var=*}`; `**` must be the last segment (only the verb may follow);
// a variable must not contain another variable. The bare template "/" (no segments)
// is accepted too, as Envoy and grpc-gateway do.

import { err, ok, type Result } from "../../core/index.ts";
import { normalizeSegment } from "./percent.ts";

export type SegmentMatcher =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "wildcard" }
  | { readonly kind: "multi" };

export interface TemplateVariable {
  /** Field path as written, e.g. "book.name". */
  readonly fieldPath: string;
  /** The IDENTs of fieldPath. */
  readonly path: readonly string[];
  /** First template segment the variable covers. */
  readonly start: number;
  /** One past its last template segment. */
  readonly end: number;
  /** Covers more than one segment or a `**`: its value keeps "%2F" encoded. */
  readonly multiSegment: boolean;
  /** Contains the template's `**` (so it extends to the end of the request path). */
  readonly open: boolean;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly SegmentMatcher[];
  /** Verb without the ':' (normalized like literals), or "" when there is none. */
  readonly verb: string;
  readonly variables: readonly TemplateVariable[];
}

export interface TemplateError {
  /** Character offset into the template where the problem was found. */
  readonly offset: number;
  readonly message: string;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;
// RFC 3986 pchar minus ':' (verb separator), '*' (wildcards) and '{', '}' (variables).
const LITERAL_CHAR = /[A-Za-z0-9\-._~!$&'()+,;=@]/;
const HEX = /[0-9A-Fa-f]/;

class Parser {
  readonly #src: string;
  #pos = 0;
  readonly segments: SegmentMatcher[] = [];
  readonly variables: TemplateVariable[] = [];

  constructor(src: string) {
    this.#src = src;
  }

  fail(message: string, at = this.#pos): TemplateError {
    return { offset: at, message };
  }

  peek(): string | undefined {
    return this.#src[this.#pos];
  }

  get pos(): number {
    return this.#pos;
  }

  advance(n = 1): void {
    this.#pos += n;
  }

  atEnd(): boolean {
    return this.#pos >= this.#src.length;
  }

  /** Segments until something other than '/' follows a segment. */
  segmentsUntilStop(inVariable: boolean): TemplateError | undefined {
    for (;;) {
      const e = this.segment(inVariable);
      if (e) return e;
      if (this.peek() !== "/") return undefined;
      this.advance();
    }
  }

  segment(inVariable: boolean): TemplateError | undefined {
    const c = this.peek();
    if (c === "{") {
      if (inVariable) return this.fail("a variable must not contain another variable");
      return this.variable();
    }
    if (c === "*") {
      const double = this.#src[this.#pos + 1] === "*";
      const at = this.#pos;
      this.advance(double ? 2 : 1);
      const next = this.peek();
      if (next !== undefined && next !== "/" && next !== "}" && next !== ":") {
        return this.fail(`'${double ? "**" : "*"}' must be a whole segment`, at);
      }
      this.segments.push(double ? { kind: "multi" } : { kind: "wildcard" });
      return undefined;
    }
    const lit = this.literal();
    if (typeof lit !== "string") return lit;
    this.segments.push({ kind: "literal", value: normalizeSegment(lit) });
    return undefined;
  }

  literal(): string | TemplateError {
    const start = this.#pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined) break;
      if (c === "%") {
        const h1 = this.#src[this.#pos + 1];
        const h2 = this.#src[this.#pos + 2];
        if (h1 === undefined || h2 === undefined || !HEX.test(h1) || !HEX.test(h2)) {
          return this.fail("'%' must be followed by two hex digits");
        }
        this.advance(3);
        continue;
      }
      if (!LITERAL_CHAR.test(c)) break;
      this.advance();
    }
    if (this.#pos === start) {
      const c = this.peek();
      return this.fail(c === undefined || c === "/" || c === "}" || c === ":" ? "empty segment" : `unexpected character '${c}'`);
    }
    return this.#src.slice(start, this.#pos);
  }

  variable(): TemplateError | undefined {
    const open = this.#pos;
    this.advance(); // '{'
    const path: string[] = [];
    for (;;) {
      const identStart = this.#pos;
      const first = this.peek();
      if (first === undefined || !IDENT_START.test(first)) {
        return this.fail("expected a field name (letter or '_')");
      }
      while (this.peek() !== undefined && IDENT_CHAR.test(this.peek() as string)) this.advance();
      path.push(this.#src.slice(identStart, this.#pos));
      if (this.peek() !== ".") break;
      this.advance();
    }
    const start = this.segments.length;
    const c = this.peek();
    if (c === "=") {
      this.advance();
      const e = this.segmentsUntilStop(true);
      if (e) return e;
    } else {
      this.segments.push({ kind: "wildcard" });
    }
    if (this.peek() !== "}") {
      const d = this.peek();
      return d === undefined ? this.fail(`unclosed variable opened at offset ${open}`) : this.fail(`unexpected character '${d}' in variable`);
    }
    this.advance();
    const end = this.segments.length;
    const covered = this.segments.slice(start, end);
    const hasMulti = covered.some((s) => s.kind === "multi");
    this.variables.push({
      fieldPath: path.join("."),
      path,
      start,
      end,
      multiSegment: end - start > 1 || hasMulti,
      open: hasMulti,
    });
    return undefined;
  }
}

/** Parse and validate a path template. Errors carry the offset of the problem. */
export function parsePathTemplate(source: string): Result<PathTemplate, TemplateError> {
  if (!source.startsWith("/")) return err({ offset: 0, message: "a path template must start with '/'" });
  if (source === "/") return ok({ source, segments: [], verb: "", variables: [] });
  const p = new Parser(source);
  p.advance();
  const e = p.segmentsUntilStop(false);
  if (e) return err(e);
  let verb = "";
  if (p.peek() === ":") {
    p.advance();
    const lit = p.literal();
    if (typeof lit !== "string") return err(lit.message === "empty segment" ? { offset: lit.offset, message: "empty verb after ':'" } : lit);
    verb = normalizeSegment(lit);
  }
  if (!p.atEnd()) {
    const c = p.peek();
    return err(p.fail(c === "}" ? "'}' without a matching '{'" : `unexpected character '${c}'`));
  }
  const multiAt = p.segments.findIndex((s) => s.kind === "multi");
  if (multiAt !== -1 && multiAt !== p.segments.length - 1) {
    return err({ offset: 0, message: "'**' must be the last segment (only a verb may follow it)" });
  }
  const seen = new Set<string>();
  for (const v of p.variables) {
    if (seen.has(v.fieldPath)) return err({ offset: 0, message: `field "${v.fieldPath}" is bound twice` });
    for (const other of seen) {
      if (other.startsWith(v.fieldPath + ".") || v.fieldPath.startsWith(other + ".")) {
        return err({ offset: 0, message: `fields "${other}" and "${v.fieldPath}" overlap` });
      }
    }
    seen.add(v.fieldPath);
  }
  return ok({ source, segments: p.segments, verb, variables: p.variables });
}

/** A canonical string for "matches the same paths": variables and field names erased. */
export function templateShape(t: PathTemplate): string {
  let s = "";
  for (const seg of t.segments) {
    s += seg.kind === "literal" ? `/=${seg.value}` : seg.kind === "wildcard" ? "/*" : "/**";
  }
  return t.verb === "" ? s || "/" : `${s || "/"}:${t.verb}`;
}
