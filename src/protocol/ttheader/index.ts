// Kitex TTHeader framing and KitexProtobuf payloads (L1: imports only src/core).
// Spec: shared/protocol/kitex-ttheader.md; summary in README.md beside this file.
export {
  ACCEPTED_PROTOCOL_IDS,
  DEFAULT_LIMITS,
  ExceptionType,
  HeaderFlag,
  InfoId,
  IntKey,
  KITEX_PROTOBUF_MAGIC,
  MAX_HEADER_BLOCK,
  MAX_HEADER_STRING,
  MessageType,
  MetaPrefix,
  ProtocolId,
  StrKey,
  THRIFT_BINARY_MAGIC,
  TTHEADER_MAGIC,
  TTHEADER_META_SIZE,
  resolveLimits,
} from "./constants.ts";
export type { TTHeaderLimits } from "./constants.ts";
export type { TTHeaderFrame, TTHeaderFrameInit } from "./frame.ts";
export type { ExceptionInfo, PayloadCodec, RpcMessage } from "./message.ts";
export { protocolError, tooLargeError } from "./errors.ts";
export { encodeFrame } from "./frame-encode.ts";
export { checkFramePrefix, decodeFrame } from "./frame-decode.ts";
export { FrameDecoder } from "./frame-decoder.ts";
export type { DecodeOutput, FrameDecoderOptions, SkippedFrame } from "./frame-decoder.ts";
export { decodeKitexProtobuf, encodeKitexProtobuf } from "./kitex-protobuf.ts";
export { decodeErrorProto, encodeErrorProto } from "./error-proto.ts";
export { decodeTApplicationException, decodeThriftMessage, encodeTApplicationException, encodeThriftMessage } from "./thrift-binary.ts";
export { decodeException, decodePayload, encodeExceptionBody, encodePayload } from "./payload.ts";
export { encodeMessageFrame } from "./message-frame.ts";
export type { MessageFrameHeader } from "./message-frame.ts";
export { CONTROL_SEQ_ID, encodeControlFrame, hasConnReset, isControlFrame } from "./control-frame.ts";
export { readBizStatus, writeBizStatus } from "./biz-status.ts";
export type { BizStatus } from "./biz-status.ts";
export { exceptionTypeForGrpcCode, exceptionTypeName, grpcCodeForException } from "./exception-codes.ts";
