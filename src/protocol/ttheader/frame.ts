/** The TTHeader frame as data (§1.1 of shared/protocol/kitex-ttheader.md). */

export interface TTHeaderFrame {
  /** FLAGS u16: 0 for pingpong, 0x0001 for mux requests, 0 in every Kitex reply (§1.2, §12.13). */
  readonly flags: number;
  /** i32; 0 is reserved for mux control frames (§1.2, §4.1). */
  readonly seqId: number;
  readonly protocolId: number;
  /** INFO_KEYVALUE (0x01) entries in wire order; a repeated key keeps its last value (§1.4). */
  readonly strHeaders: ReadonlyMap<string, string>;
  /** INFO_INTKEYVALUE (0x10) entries in wire order. */
  readonly intHeaders: ReadonlyMap<number, string>;
  /** INFO_ACL_TOKEN (0x11): one str16, no key (§1.4). Kitex maps it to `RPC_TRANSIT_gdpr-token`. */
  readonly aclToken: string | undefined;
  /** Everything after the header block. */
  readonly payload: Uint8Array;
}

export interface TTHeaderFrameInit {
  readonly flags?: number;
  readonly seqId: number;
  /** Defaults to 0, what Kitex writes for every unary frame (§1.2). */
  readonly protocolId?: number;
  readonly strHeaders?: ReadonlyMap<string, string>;
  readonly intHeaders?: ReadonlyMap<number, string>;
  /** Written as the ACL section; a `RPC_TRANSIT_gdpr-token` string header is moved there too (§1.3). */
  readonly aclToken?: string | undefined;
  /** One buffer or several written back to back (saves a copy of large bodies). */
  readonly payload: Uint8Array | readonly Uint8Array[];
}
