import { err, ok, type GatewayError, type Result } from "../../core/index.ts";
import { StrKey } from "./constants.ts";
import { protocolError } from "./errors.ts";

/** A Kitex BizStatusError carried in reply string headers (§1.6). */
export interface BizStatus {
  readonly status: number;
  readonly message: string;
  readonly extra?: Record<string, string>;
}

/**
 * Reads biz-status/biz-message/biz-extra (§1.6 `ParseBizStatusErr`). A missing
 * or zero status means no business error. A status that is not a decimal int32
 * is a protocol error. biz-extra is a JSON map[string]string; if it does not
 * parse as an object it is left out rather than failing the call.
 */
export function readBizStatus(headers: ReadonlyMap<string, string>): Result<BizStatus | undefined, GatewayError> {
  const raw = headers.get(StrKey.bizStatus);
  if (raw === undefined || raw === "") return ok(undefined);
  if (!/^[+-]?\d{1,10}$/.test(raw)) return err(protocolError(`biz-status ${JSON.stringify(raw.slice(0, 32))} is not an int32`));
  const status = Number(raw);
  if (status > 0x7fffffff || status < -0x80000000) return err(protocolError(`biz-status ${raw} is out of int32 range`));
  if (status === 0) return ok(undefined);
  const message = headers.get(StrKey.bizMessage) ?? "";
  const extra = parseExtra(headers.get(StrKey.bizExtra));
  return ok(extra ? { status, message, extra } : { status, message });
}

function parseExtra(raw: string | undefined): Record<string, string> | undefined {
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "__proto__") continue; // a plain object must not get a new prototype from the peer
    out[k] = typeof x === "string" ? x : JSON.stringify(x);
  }
  return out;
}

/** Writes a business error into reply string headers, as Kitex's ServerTTHeaderHandler does. */
export function writeBizStatus(headers: Map<string, string>, biz: BizStatus): void {
  headers.set(StrKey.bizStatus, String(biz.status | 0));
  headers.set(StrKey.bizMessage, biz.message);
  if (biz.extra && Object.keys(biz.extra).length > 0) headers.set(StrKey.bizExtra, JSON.stringify(biz.extra));
}
