import {
  IntKey,
  MessageType,
  StrKey,
  encodeExceptionBody,
  encodeMessageFrame,
  writeBizStatus,
  type RpcMessage,
  type TTHeaderLimits,
} from "../../protocol/ttheader/index.ts";
import type { Outcome } from "./dispatch.ts";

/**
 * The reply frame for one call's outcome. `reset` adds crrst (the connection closes after it).
 * A reply too large to frame becomes exception 6 (InternalError); `onError` hears why.
 */
export function encodeReplyFrame(
  req: RpcMessage,
  outcome: Outcome,
  responseMetadata: Readonly<Record<string, string>>,
  reset: boolean,
  limits: TTHeaderLimits,
  onError: (error: unknown) => void,
): Uint8Array {
  const strHeaders = new Map<string, string>(Object.entries(responseMetadata));
  if (outcome.kind === "biz") writeBizStatus(strHeaders, outcome.biz);
  if (reset) strHeaders.set(StrKey.connReset, "1");
  const exception = outcome.kind === "exception";
  // Int header 22 (MsgType) as Kitex's ServerTTHeaderHandler writes it (§12.11).
  const intHeaders = new Map([[IntKey.msgType, exception ? "3" : "2"]]);
  const body = outcome.kind === "reply" ? outcome.body : outcome.kind === "exception" ? encodeExceptionBody(req.codec, outcome.exception) : new Uint8Array(0);
  const message: RpcMessage = { ...req, type: exception ? MessageType.exception : MessageType.reply, body };
  try {
    return encodeMessageFrame({ flags: 0, strHeaders, intHeaders }, message, limits);
  } catch (e) {
    onError(e);
    const fallback = { ...message, type: MessageType.exception, body: encodeExceptionBody(req.codec, { typeId: 6, message: "reply too large" }) };
    return encodeMessageFrame({ flags: 0, strHeaders: reset ? new Map([[StrKey.connReset, "1"]]) : new Map(), intHeaders: new Map([[IntKey.msgType, "3"]]) }, fallback, limits);
  }
}
