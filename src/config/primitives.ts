// Small zod building blocks shared by the config sections.
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

/** "4MiB", "512KiB", or a number of bytes. */
export const size = z.union([z.number().int().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kib|kb|mib|mb|gib|gb)?\s*$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: "custom", message: `expected a size like "4MiB", "512KiB" or a number of bytes, got "${v}"` });
    return z.NEVER;
  }
  const unit = (m[2] ?? "b").toLowerCase();
  const mult = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 ** 2 : unit.startsWith("g") ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
});

/** Header names are compared lower-case (RFC 9110 §5.1: field names are case-insensitive). */
export const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name")
  .transform((s) => s.toLowerCase());
