/**
 * TTHeader and KitexProtobuf constants. Source: shared/protocol/kitex-ttheader.md
 * (§1 frame, §1.5/§1.6 header keys, §2 payloads); section 12 there records what
 * real Kitex servers send and wins over the rest.
 */

/** Bytes 4..5 of every TTHeader frame (§1.1). Detection masks u32@4 with 0xFFFF0000. */
export const TTHEADER_MAGIC = 0x1000;
/** LENGTH(4) + MAGIC(2) + FLAGS(2) + SEQ_ID(4) + HEADER_SIZE(2) (§1.1 `TTHeaderMetaSize`). */
export const TTHEADER_META_SIZE = 14;
/** HEADER_SIZE is a u16 count of 4-byte words (§1.1). */
export const MAX_HEADER_BLOCK = 65535 * 4;
/** str16 strings (§1.4 `maxHeaderStringSize`). */
export const MAX_HEADER_STRING = 65535;

/** FLAGS (§1.2). Never set `streaming` on unary frames (§0 rule 2). */
export const HeaderFlag = {
  none: 0x0000,
  supportOutOfOrder: 0x0001,
  streaming: 0x0002,
} as const;

/** PROTOCOL_ID (§1.2). Kitex writes 0 for every unary frame, KitexProtobuf included. */
export const ProtocolId = {
  binary: 0x00,
  compact: 0x02,
  compactV2: 0x03,
  kitexProtobuf: 0x04,
  thriftStruct: 0x10,
  protobufStruct: 0x11,
} as const;

/** Ids the gopkg decoder accepts (`checkProtocolID`, §1.2); 0x02 is rejected. */
export const ACCEPTED_PROTOCOL_IDS: ReadonlySet<number> = new Set([0x00, 0x03, 0x04, 0x10, 0x11]);

/** INFO section ids (§1.1). Any other id is a hard error (§1.4). */
export const InfoId = {
  padding: 0x00,
  keyValue: 0x01,
  intKeyValue: 0x10,
  aclToken: 0x11,
} as const;

/** Int-keyed headers (§1.5, gopkg `metakey.go`). Values are ASCII strings. */
export const IntKey = {
  meshVersion: 0,
  transportType: 1,
  logId: 2,
  fromService: 3,
  fromCluster: 4,
  fromIdc: 5,
  toService: 6,
  toCluster: 7,
  toIdc: 8,
  toMethod: 9,
  env: 10,
  destAddress: 11,
  rpcTimeout: 12,
  readTimeout: 13,
  ringHashKey: 14,
  ddpTag: 15,
  withMeshHeader: 16,
  connectTimeout: 17,
  spanContext: 18,
  shortConnection: 19,
  fromMethod: 20,
  stressTag: 21,
  msgType: 22,
  httpContentType: 23,
  rawRingHashKey: 24,
  lbType: 25,
  clusterShardId: 26,
  frameType: 27,
} as const;

/** String-keyed headers (§1.6, §1.7). */
export const StrKey = {
  idlServiceName: "isn",
  realIp: "rip",
  connReset: "crrst",
  bizStatus: "biz-status",
  bizMessage: "biz-message",
  bizExtra: "biz-extra",
  crc32c: "crc32c",
  /** Carried in the ACL section (0x11), not as a key/value (§1.3, §1.4). */
  gdprToken: "RPC_TRANSIT_gdpr-token",
} as const;

/** Metainfo prefixes (§1.7). */
export const MetaPrefix = {
  persist: "RPC_PERSIST_",
  transit: "RPC_TRANSIT_",
  transitUpstream: "RPC_TRANSIT_UPSTREAM_",
  backward: "RPC_BACKWARD_",
} as const;

/** Message types (§2.1, `kitex:pkg/remote/message.go`). */
export const MessageType = {
  call: 1,
  reply: 2,
  exception: 3,
  oneway: 4,
  stream: 5,
  heartbeat: 6,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** KitexProtobuf magic: u32 = 0x90010000 | msgType (§2.1). */
export const KITEX_PROTOBUF_MAGIC = 0x9001;
/** Strict Thrift binary: u32 = 0x80010000 | msgType (§2.2). */
export const THRIFT_BINARY_MAGIC = 0x8001;

/** Exception type ids (§2.1, `kitex:pkg/remote/trans_errors.go`; same as TApplicationException). */
export const ExceptionType = {
  unknown: 0,
  unknownMethod: 1,
  invalidMessageType: 2,
  wrongMethodName: 3,
  badSequenceId: 4,
  missingResult: 5,
  internalError: 6,
  protocolError: 7,
  invalidTransform: 8,
  invalidProtocol: 9,
  unsupportedClientType: 10,
  unknownService: 20,
  noServiceName: 21,
} as const;

/** Limits with safe defaults. Frames and headers over them are rejected, never buffered. */
export interface TTHeaderLimits {
  /** Largest whole frame in bytes, LENGTH field included. */
  readonly maxFrameSize: number;
  /** Largest header-info block (HEADER_SIZE*4) in bytes. */
  readonly maxHeaderSize: number;
}

export const DEFAULT_LIMITS: TTHeaderLimits = {
  maxFrameSize: 16 * 1024 * 1024,
  // Older Kitex (gopkg < v0.1.8) only accept headers below 64 KiB (§1.4, §12.5).
  maxHeaderSize: 65532,
};

export function resolveLimits(partial?: Partial<TTHeaderLimits>): TTHeaderLimits {
  const maxFrameSize = partial?.maxFrameSize ?? DEFAULT_LIMITS.maxFrameSize;
  const maxHeaderSize = Math.min(partial?.maxHeaderSize ?? DEFAULT_LIMITS.maxHeaderSize, MAX_HEADER_BLOCK);
  return { maxFrameSize, maxHeaderSize };
}
