import type { MessageType } from "./constants.ts";

/** Payload codecs found after a TTHeader (§0 rule 3). */
export type PayloadCodec = "kitex-protobuf" | "thrift-binary";

/** One RPC message: the KitexProtobuf or Thrift message header plus the raw body. */
export interface RpcMessage {
  readonly codec: PayloadCodec;
  /** KitexProtobuf is always framed (§0); Thrift may be either. */
  readonly framed: boolean;
  /** MessageType value (1 call, 2 reply, 3 exception, 4 oneway); other values pass through. */
  readonly type: MessageType | number;
  readonly method: string;
  /** Must equal the TTHeader seq id (§1.2); the payload one is what Kitex enforces. */
  readonly seqId: number;
  /** Raw protobuf (or Thrift struct) bytes; for exceptions ErrorProto / TApplicationException. */
  readonly body: Uint8Array;
}

/** What an exception reply carries, whichever payload codec (§2.1, §2.2). */
export interface ExceptionInfo {
  readonly typeId: number;
  readonly message: string;
}
