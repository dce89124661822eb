import { GatewayError, GrpcCode, Reason } from "../../core/index.ts";
import {
  MessageType,
  MetaPrefix,
  StrKey,
  decodeException,
  decodePayload,
  exceptionTypeName,
  grpcCodeForException,
  protocolError,
  readBizStatus,
  type TTHeaderFrame,
} from "../../protocol/ttheader/index.ts";
import type { UnaryReply } from "../types.ts";

export interface ExpectedReply {
  readonly method: string;
  readonly seqId: number;
  readonly endpoint: string;
  readonly maxReplyBytes?: number | undefined;
}

const HIDDEN = new Set<string>([StrKey.connReset, StrKey.bizStatus, StrKey.bizMessage, StrKey.bizExtra]);

/**
 * Reply string headers as metadata (lower-case keys): Kitex sends backward metainfo
 * under its raw key, Volo with an RPC_BACKWARD_ prefix; both are accepted (§1.7).
 */
export function replyMetadata(frame: TTHeaderFrame): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of frame.strHeaders) {
    if (HIDDEN.has(k)) continue;
    const key = (k.startsWith(MetaPrefix.backward) ? k.slice(MetaPrefix.backward.length) : k).toLowerCase();
    if (key === "" || key === "__proto__") continue;
    out[key] = v;
  }
  return out;
}

function withEndpoint(e: GatewayError, endpoint: string): GatewayError {
  return new GatewayError({ code: e.code, reason: e.reason, message: e.message, cause: e.cause, endpoint });
}

/**
 * Turns the reply frame of one call into its result: the message bytes, or a
 * GatewayError for exceptions (one table: grpcCodeForException), business errors
 * (biz-status headers on a Reply, §1.6) and protocol violations.
 */
export function interpretReply(frame: TTHeaderFrame, want: ExpectedReply): UnaryReply | GatewayError {
  const decoded = decodePayload(frame.payload);
  if (!decoded.ok) return withEndpoint(decoded.error, want.endpoint);
  const msg = decoded.value;
  const metadata = replyMetadata(frame);

  if (msg.type === MessageType.exception) {
    // Method and seq are not checked on exceptions: a proxy may send seq 0 (§2.1).
    const ex = decodeException(msg);
    if (!ex.ok) return withEndpoint(ex.error, want.endpoint);
    const { typeId, message } = ex.value;
    return new GatewayError({
      code: grpcCodeForException(typeId),
      reason: Reason.upstreamStatus,
      message: `upstream exception ${exceptionTypeName(typeId)} (${typeId}): ${message}`,
      endpoint: want.endpoint,
    });
  }
  if (msg.type !== MessageType.reply) {
    return withEndpoint(protocolError(`expected a reply, got message type ${msg.type}`), want.endpoint);
  }
  if (msg.codec !== "kitex-protobuf") return withEndpoint(protocolError("got a Thrift reply to a KitexProtobuf call"), want.endpoint);
  // Kitex enforces the payload seq id and the method name on replies (§2.1 SetOrCheck*).
  if (msg.seqId !== want.seqId) {
    return withEndpoint(protocolError(`reply seq id ${msg.seqId} does not match the call's ${want.seqId}`), want.endpoint);
  }
  if (msg.method !== want.method) {
    return withEndpoint(protocolError(`reply for method ${JSON.stringify(msg.method)}, called ${JSON.stringify(want.method)}`), want.endpoint);
  }
  const biz = readBizStatus(frame.strHeaders);
  if (!biz.ok) return withEndpoint(biz.error, want.endpoint);
  if (biz.value) {
    // INTERNAL, as a Kitex server reports the same BizStatusError over gRPC (§7); see README.
    return new GatewayError({
      code: GrpcCode.INTERNAL,
      reason: Reason.bizError,
      message: `business error ${biz.value.status}: ${biz.value.message}`,
      biz: biz.value,
      endpoint: want.endpoint,
    });
  }
  if (want.maxReplyBytes !== undefined && msg.body.byteLength > want.maxReplyBytes) {
    return new GatewayError({
      code: GrpcCode.RESOURCE_EXHAUSTED,
      reason: Reason.messageTooLarge,
      message: `reply of ${msg.body.byteLength} bytes exceeds the limit of ${want.maxReplyBytes}`,
      endpoint: want.endpoint,
    });
  }
  return { message: msg.body, metadata };
}
