// Small zod building blocks shared by the edge config sections.
import { z } from "zod";
import { parseDuration } from "../core/index.ts";

/** "1.5s", "300ms", or a number of milliseconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a duration like "1.5s", "300ms" or a number of ms, got "${v}"` });
    return z.NEVER;
  }
  return ms;
});

/** Header names are compared lower-case (RFC 9110 §5.1: field names are case-insensitive). */
export const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name")
  .transform((s) => s.toLowerCase());
