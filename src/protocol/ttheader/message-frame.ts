import { DEFAULT_LIMITS, type TTHeaderLimits } from "./constants.ts";
import { encodeFrame } from "./frame-encode.ts";
import type { TTHeaderFrameInit } from "./frame.ts";
import type { RpcMessage } from "./message.ts";
import { encodePayload } from "./payload.ts";

/** TTHeader fields of a message frame; the seq id defaults to the message's (§1.2: keep them equal). */
export type MessageFrameHeader = Omit<TTHeaderFrameInit, "payload" | "seqId"> & { readonly seqId?: number };

/** Encodes a TTHeader frame around one RPC message. */
export function encodeMessageFrame(header: MessageFrameHeader, message: RpcMessage, limits: TTHeaderLimits = DEFAULT_LIMITS): Uint8Array {
  return encodeFrame({ ...header, seqId: header.seqId ?? message.seqId, payload: encodePayload(message) }, limits);
}
