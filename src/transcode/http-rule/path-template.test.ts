import { describe, expect, test } from "bun:test";
import { parsePathTemplate, templateShape, type PathTemplate, type TemplateError } from "./path-template.ts";

function parse(src: string): PathTemplate {
  const r = parsePathTemplate(src);
  if (!r.ok) throw new Error(`${src}: ${r.error.message} at ${r.error.offset}`);
  return r.value;
}

function parseError(src: string): TemplateError {
  const r = parsePathTemplate(src);
  if (r.ok) throw new Error(`${src} parsed but should not`);
  return r.error;
}

describe("parsePathTemplate: grammar forms", () => {
  test("literal segments", () => {
    const t = parse("/v1/echo");
    expect(t.segments).toEqual([
      { kind: "literal", value: "v1" },
      { kind: "literal", value: "echo" },
    ]);
    expect(t.verb).toBe("");
    expect(t.variables).toEqual([]);
  });

  test("literal with verb", () => {
    const t = parse("/v1/echo:stream");
    expect(t.segments.map((s) => s.kind)).toEqual(["literal", "literal"]);
    expect(t.segments[1]).toEqual({ kind: "literal", value: "echo" });
    expect(t.verb).toBe("stream");
  });

  test("{var} is {var=*}", () => {
    const a = parse("/v1/{name}");
    const b = parse("/v1/{name=*}");
    expect(a.segments).toEqual(b.segments);
    expect(a.variables).toEqual(b.variables);
    expect(a.variables[0]).toEqual({ fieldPath: "name", path: ["name"], start: 1, end: 2, multiSegment: false, open: false });
  });

  test("variable with a multi-segment template", () => {
    const t = parse("/v1/{name=shelves/*/books/*}");
    expect(t.segments.map((s) => s.kind)).toEqual(["literal", "literal", "wildcard", "literal", "wildcard"]);
    expect(t.variables[0]).toMatchObject({ fieldPath: "name", start: 1, end: 5, multiSegment: true, open: false });
  });

  test("{var=a/*}", () => {
    const t = parse("/v1/{parent=a/*}/items");
    expect(t.variables[0]).toMatchObject({ start: 1, end: 3, multiSegment: true });
    expect(t.segments[3]).toEqual({ kind: "literal", value: "items" });
  });

  test("** as a variable template and bare", () => {
    const v = parse("/v1/files/{path=**}");
    expect(v.segments[2]).toEqual({ kind: "multi" });
    expect(v.variables[0]).toMatchObject({ start: 2, end: 3, multiSegment: true, open: true });
    const bare = parse("/v1/**");
    expect(bare.segments).toEqual([{ kind: "literal", value: "v1" }, { kind: "multi" }]);
    expect(bare.variables).toEqual([]);
  });

  test("** followed by a verb", () => {
    const t = parse("/v1/{name=**}:cancel");
    expect(t.verb).toBe("cancel");
    expect(t.segments[1]).toEqual({ kind: "multi" });
  });

  test("variable followed by a verb", () => {
    const t = parse("/v1/{name=shelves/*}:move");
    expect(t.verb).toBe("move");
    expect(t.variables[0]).toMatchObject({ start: 1, end: 3 });
  });

  test("nested field paths", () => {
    const t = parse("/v1/{outer.inner.id}/{outer.label}");
    expect(t.variables.map((v) => v.path)).toEqual([["outer", "inner", "id"], ["outer", "label"]]);
    expect(t.variables.map((v) => v.fieldPath)).toEqual(["outer.inner.id", "outer.label"]);
  });

  test("anonymous wildcards", () => {
    const t = parse("/v1/*/x/**");
    expect(t.segments.map((s) => s.kind)).toEqual(["literal", "wildcard", "literal", "multi"]);
    expect(t.variables).toEqual([]);
  });

  test("root template", () => {
    expect(parse("/").segments).toEqual([]);
  });

  test("literals are normalized (RFC 3986 6.2.2): unreserved escapes decoded, hex upper-cased", () => {
    expect(parse("/v1/%65cho").segments[1]).toEqual({ kind: "literal", value: "echo" });
    expect(parse("/v1/a%2fb").segments[1]).toEqual({ kind: "literal", value: "a%2Fb" });
  });

  test("sub-delims and @ are literal characters", () => {
    expect(parse("/v1/a-b.c_d~e!$&'()+,;=@").segments[1]).toEqual({ kind: "literal", value: "a-b.c_d~e!$&'()+,;=@" });
  });
});

describe("parsePathTemplate: errors", () => {
  const cases: [string, string, number][] = [
    ["v1/echo", "must start with '/'", 0],
    ["/v1//echo", "empty segment", 4],
    ["/v1/echo/", "empty segment", 9],
    ["/v1/{name", "unclosed variable opened at offset 4", 9],
    ["/v1/{name=shelves/{id}}", "must not contain another variable", 18],
    ["/v1/{1abc}", "expected a field name", 5],
    ["/v1/{a.}", "expected a field name", 7],
    ["/v1/{}", "expected a field name", 5],
    ["/v1/{name=}", "empty segment", 10],
    ["/v1/**/x", "'**' must be the last segment", 0],
    ["/v1/{a=**}/{b}", "'**' must be the last segment", 0],
    ["/v1/a*", "unexpected character '*'", 5],
    ["/v1/*a", "'*' must be a whole segment", 4],
    ["/v1/echo:", "empty verb after ':'", 9],
    ["/v1/echo:a:b", "unexpected character ':'", 10],
    ["/v1/echo:a/b", "unexpected character '/'", 10],
    ["/v1/{a=x:y}", "unexpected character ':' in variable", 8],
    ["/v1/a}", "'}' without a matching '{'", 5],
    ["/v1/a%2", "'%' must be followed by two hex digits", 5],
    ["/v1/a b", "unexpected character ' '", 5],
    ["/v1/{a}/{a}", `field "a" is bound twice`, 0],
    ["/v1/{a}/{a.b}", `fields "a" and "a.b" overlap`, 0],
  ];
  for (const [src, message, offset] of cases) {
    test(`${src} -> ${message}`, () => {
      const e = parseError(src);
      expect(e.message).toContain(message);
      expect(e.offset).toBe(offset);
    });
  }
});

describe("templateShape", () => {
  test("equivalent templates share a shape", () => {
    expect(templateShape(parse("/v1/{a}"))).toBe(templateShape(parse("/v1/{b=*}")));
    expect(templateShape(parse("/v1/{a}"))).toBe(templateShape(parse("/v1/*")));
    expect(templateShape(parse("/v1/{a=x/*}"))).toBe(templateShape(parse("/v1/x/{b}")));
    expect(templateShape(parse("/v1/{a=**}:v"))).toBe(templateShape(parse("/v1/**:v")));
  });

  test("different templates have different shapes", () => {
    expect(templateShape(parse("/v1/{a}"))).not.toBe(templateShape(parse("/v1/{a=**}")));
    expect(templateShape(parse("/v1/x"))).not.toBe(templateShape(parse("/v1/{a}")));
    expect(templateShape(parse("/v1/x"))).not.toBe(templateShape(parse("/v1/x:v")));
    // A literal "*" cannot be written, so "=*" in a literal cannot collide with a wildcard.
    expect(templateShape(parse("/v1/x"))).not.toBe(templateShape(parse("/v1/y")));
  });
});
