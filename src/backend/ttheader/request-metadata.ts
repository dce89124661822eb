import { MetaPrefix, type TTHeaderFrame } from "../../protocol/ttheader/index.ts";

/**
 * Handler metadata from request string headers (lower-case keys), the inverse of
 * the upstream client's convention (src/upstream/ttheader/request-headers.ts):
 *   RPC_PERSIST_<K>  -> "rpc-persist-<k>" (k lower-cased, "_" -> "-")
 *   RPC_TRANSIT_<K>  -> "<k>" lower-cased (e.g. RPC_TRANSIT_traceparent -> traceparent)
 *   ACL token        -> "gdpr-token" (Kitex hands it to handlers as transient metainfo, §12 V8)
 * Stale `RPC_TRANSIT_UPSTREAM_` values are not forwarded to handlers. Other keys
 * (isn, rip, ...) are transport details and stay out.
 */
export function requestMetadata(frame: TTHeaderFrame): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (k !== "" && k !== "__proto__" && v !== "") out[k] = v;
  };
  for (const [k, v] of frame.strHeaders) {
    if (k.startsWith(MetaPrefix.transitUpstream)) continue;
    if (k.startsWith(MetaPrefix.persist)) put(`rpc-persist-${k.slice(MetaPrefix.persist.length).toLowerCase().replaceAll("_", "-")}`, v);
    else if (k.startsWith(MetaPrefix.transit)) put(k.slice(MetaPrefix.transit.length).toLowerCase(), v);
  }
  if (frame.aclToken) put("gdpr-token", frame.aclToken);
  return out;
}
