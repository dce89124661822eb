import { GatewayError } from "../../core/index.ts";
import { ExceptionType, exceptionTypeForGrpcCode, type BizStatus, type ExceptionInfo } from "../../protocol/ttheader/index.ts";
import type { MethodEntry } from "../method-table.ts";
import { BizError, type HandlerContext, type UnaryHandler } from "../types.ts";

/** What one call produced, before it is framed. */
export type Outcome =
  | { readonly kind: "reply"; readonly body: Uint8Array }
  | { readonly kind: "biz"; readonly biz: BizStatus }
  | { readonly kind: "exception"; readonly exception: ExceptionInfo };

function isBizError(e: unknown): e is BizError {
  // instanceof, or the same shape from another copy of the module.
  return e instanceof BizError || (e instanceof Error && e.name === "BizError" && typeof (e as BizError).bizStatus === "number");
}

/** Maps what a handler threw: BizError -> biz headers, GatewayError -> mapped type id, anything else -> 6 InternalError. */
export function outcomeForError(e: unknown): Outcome {
  if (isBizError(e)) {
    return { kind: "biz", biz: e.bizExtra ? { status: e.bizStatus, message: e.message, extra: e.bizExtra } : { status: e.bizStatus, message: e.message } };
  }
  if (GatewayError.is(e)) return { kind: "exception", exception: { typeId: exceptionTypeForGrpcCode(e.code), message: e.message } };
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "exception", exception: { typeId: ExceptionType.internalError, message } };
}

/** Decode, run the unary handler, encode (the shared method table does the protobuf reflection). */
export async function runUnary(entry: MethodEntry, body: Uint8Array, ctx: HandlerContext): Promise<Outcome> {
  if (entry.desc.methodKind !== "unary") {
    return { kind: "exception", exception: { typeId: ExceptionType.unknownMethod, message: `method ${entry.desc.name} is ${entry.desc.methodKind}; TTHeader serves unary methods only` } };
  }
  let request: unknown;
  try {
    request = entry.decode(body);
  } catch (e) {
    // The request bytes are not the input message: Kitex's codec reports ProtocolError (7).
    return { kind: "exception", exception: { typeId: ExceptionType.protocolError, message: e instanceof Error ? e.message : String(e) } };
  }
  try {
    return { kind: "reply", body: entry.encode(await (entry.handler as UnaryHandler)(request, ctx)) };
  } catch (e) {
    return outcomeForError(e);
  }
}
