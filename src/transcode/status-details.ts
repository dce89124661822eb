// grpc-status-details-bin (google.rpc.Status) -> JSON details for error bodies.
import { fromBinary, toJson, type Registry } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";

/** Details as proto3 JSON (Any with "@type"); types missing from the registry come back as type URL + base64 value. */
export function decodeStatusDetails(registry: Registry, bin: Uint8Array): unknown[] {
  const statusDesc = registry.getMessage("google.rpc.Status");
  if (!statusDesc) return [];
  let status;
  try {
    status = fromBinary(statusDesc, bin) as unknown as { details: { typeUrl: string; value: Uint8Array }[] };
  } catch {
    return [];
  }
  return status.details.map((any) => {
    try {
      const msg = anyUnpack(any as never, registry);
      if (msg) {
        const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
        const desc = registry.getMessage(name)!;
        const json = toJson(desc, msg, { registry });
        return typeof json === "object" && json !== null && !Array.isArray(json) ? { "@type": any.typeUrl, ...json } : { "@type": any.typeUrl, value: json };
      }
    } catch {
      // fall through to the opaque form
    }
    return { "@type": any.typeUrl, value: btoa(String.fromCharCode(...any.value)) };
  });
}
