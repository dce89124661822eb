import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GatewayError } from "../../core/index.ts";
import { ExceptionType, exceptionTypeForGrpcCode, type BizStatus, type ExceptionInfo } from "../../protocol/ttheader/index.ts";
import { BizError, type HandlerContext, type UnaryHandler } from "../types.ts";
import type { Route } from "./routing.ts";

/** What one call produced, before it is framed. */
export type Outcome =
  | { readonly kind: "reply"; readonly body: Uint8Array }
  | { readonly kind: "biz"; readonly biz: BizStatus }
  | { readonly kind: "exception"; readonly exception: ExceptionInfo };

function isBizError(e: unknown): e is BizError {
  // instanceof, or the same shape from another copy of the module.
  return e instanceof BizError || (e instanceof Error && e.name === "BizError" && typeof (e as BizError).bizStatus === "number");
}

/** Maps what a handler threw: BizError -> biz headers, GatewayError -> mapped type id, anything else -> 6. */
export function outcomeForError(e: unknown): Outcome {
  if (isBizError(e)) {
    return { kind: "biz", biz: e.bizExtra ? { status: e.bizStatus, message: e.message, extra: e.bizExtra } : { status: e.bizStatus, message: e.message } };
  }
  if (GatewayError.is(e)) return { kind: "exception", exception: { typeId: exceptionTypeForGrpcCode(e.code), message: e.message } };
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "exception", exception: { typeId: ExceptionType.internalError, message } };
}

/** Decode the request, run the unary handler, encode its result (protobuf-es reflection). */
export async function runUnary(route: Route, body: Uint8Array, ctx: HandlerContext): Promise<Outcome> {
  if (route.method.methodKind !== "unary") {
    return { kind: "exception", exception: { typeId: ExceptionType.unknownMethod, message: `method ${route.method.name} is ${route.method.methodKind}; TTHeader serves unary methods only` } };
  }
  let request: unknown;
  try {
    request = fromBinary(route.method.input, body);
  } catch (e) {
    return { kind: "exception", exception: { typeId: ExceptionType.protocolError, message: `cannot decode ${route.method.input.typeName}: ${e instanceof Error ? e.message : String(e)}` } };
  }
  try {
    const result: unknown = await (route.handler as UnaryHandler)(request, ctx);
    return { kind: "reply", body: toBinary(route.method.output, create(route.method.output, result as never)) };
  } catch (e) {
    return outcomeForError(e);
  }
}
