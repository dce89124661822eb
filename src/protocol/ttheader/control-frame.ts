import { DEFAULT_LIMITS, MessageType, StrKey, type TTHeaderLimits } from "./constants.ts";
import { encodeFrame } from "./frame-encode.ts";
import type { TTHeaderFrame } from "./frame.ts";
import { encodeThriftMessage } from "./thrift-binary.ts";

/** Seq id of mux control frames (§4.1: seq 0 is never used by calls). */
export const CONTROL_SEQ_ID = 0;

/**
 * The mux graceful-shutdown control frame (§4.2; byte-identical to V7 and the
 * captured frame 22): seq 0, flags 0, one string header `crrst: "1"`, payload an
 * unframed Thrift Reply "none" with seq 0 and an empty struct (one STOP byte).
 */
export function encodeControlFrame(limits: TTHeaderLimits = DEFAULT_LIMITS): Uint8Array {
  const payload = encodeThriftMessage({ type: MessageType.reply, method: "none", seqId: CONTROL_SEQ_ID, body: new Uint8Array([0]) });
  return encodeFrame({ seqId: CONTROL_SEQ_ID, strHeaders: new Map([[StrKey.connReset, "1"]]), payload }, limits);
}

export function isControlFrame(frame: TTHeaderFrame): boolean {
  return frame.seqId === CONTROL_SEQ_ID;
}

/** `crrst` non-empty: do not reuse this connection (§1.6, §3, §4.2 `mux_conn.go OnRequest`). */
export function hasConnReset(frame: TTHeaderFrame): boolean {
  return (frame.strHeaders.get(StrKey.connReset) ?? "") !== "";
}
