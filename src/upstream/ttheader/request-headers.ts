import { IntKey, MetaPrefix, StrKey } from "../../protocol/ttheader/index.ts";
import type { MethodRef } from "../types.ts";

/**
 * How CallOptions.metadata becomes TTHeader string headers (Kitex metainfo, spec §1.7):
 *
 *   "rpc-persist-<k>"  -> "RPC_PERSIST_<K>"   persistent: travels the whole call chain
 *   "rpc-transit-<k>"  -> "RPC_TRANSIT_<K>"   transient, one hop
 *   any other "<key>"  -> "RPC_TRANSIT_<key>" transient, key kept as is
 *
 * <K> is <k> upper-cased with "-" -> "_", the same rule Kitex uses when it maps
 * metainfo to and from HTTP/2 headers (`rpc-persist-pk` <-> `RPC_PERSIST_PK`), so
 * one metadata spelling works for both upstream protocols. Plain keys keep their
 * case, which gives W3C trace context the keys Kitex's OpenTelemetry middleware
 * uses: `traceparent` -> `RPC_TRANSIT_traceparent` (also tracestate, baggage).
 * `gdpr-token` becomes `RPC_TRANSIT_gdpr-token`, which the encoder moves into the
 * ACL section (§1.3). Pseudo-headers (":...") and empty keys or values are skipped.
 */
export function metadataToStrHeaders(metadata: Readonly<Record<string, string>> | undefined, into: Map<string, string>): void {
  if (!metadata) return;
  for (const [key, value] of Object.entries(metadata)) {
    if (key === "" || value === "" || key.startsWith(":")) continue;
    const persist = stripPrefix(key, "rpc-persist-");
    const transit = stripPrefix(key, "rpc-transit-");
    if (persist) into.set(MetaPrefix.persist + upperKey(persist), value);
    else if (transit) into.set(MetaPrefix.transit + upperKey(transit), value);
    else into.set(MetaPrefix.transit + key, value);
  }
}

function stripPrefix(key: string, prefix: string): string | undefined {
  return key.length > prefix.length && key.toLowerCase().startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

function upperKey(k: string): string {
  return k.toUpperCase().replaceAll("-", "_");
}

export interface RequestHeaderInput {
  readonly method: MethodRef;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** Remaining time in ms, if the call has a deadline. */
  readonly timeoutMs?: number | undefined;
  readonly fromService?: string | undefined;
  readonly fromMethod?: string | undefined;
  readonly toService?: string | undefined;
  readonly sendIsn: boolean;
}

/**
 * Request headers as Kitex's ClientTTHeaderHandler writes them (spec §1.5, §10 item 5,
 * §12.12): int {1: "framed", 3: caller, 6: callee, 9: method, 12: timeout ms, 20: caller
 * method}, string {isn: short IDL service name} plus metainfo. None is required by the
 * server (the method comes from the payload); they help routing and logs.
 */
export function buildRequestHeaders(input: RequestHeaderInput): { strHeaders: Map<string, string>; intHeaders: Map<number, string> } {
  const intHeaders = new Map<number, string>();
  intHeaders.set(IntKey.transportType, "framed");
  if (input.fromService) intHeaders.set(IntKey.fromService, input.fromService);
  const toService = input.toService ?? input.method.service;
  if (toService) intHeaders.set(IntKey.toService, toService);
  intHeaders.set(IntKey.toMethod, input.method.method);
  if (input.fromMethod) intHeaders.set(IntKey.fromMethod, input.fromMethod);
  if (input.timeoutMs !== undefined) intHeaders.set(IntKey.rpcTimeout, String(Math.max(1, Math.ceil(input.timeoutMs))));

  const strHeaders = new Map<string, string>();
  if (input.sendIsn) {
    const short = input.method.service.slice(input.method.service.lastIndexOf(".") + 1);
    if (short) strHeaders.set(StrKey.idlServiceName, short);
  }
  metadataToStrHeaders(input.metadata, strHeaders);
  return { strHeaders, intHeaders };
}
