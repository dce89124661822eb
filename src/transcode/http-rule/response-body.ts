// google.api.HttpRule.response_body: "The name of the response field whose value is
// mapped to the HTTP response body. When omitted, the entire response message will be
// used as the HTTP response body." (googleapis google/api/http.proto)

import { ScalarType, type DescField, type JsonValue } from "@bufbuild/protobuf";
import type { HttpRoute } from "./route.ts";

/** proto3 JSON of a field left at its default (toJson omits those unless alwaysEmitImplicit). */
function defaultJson(f: DescField): JsonValue {
  switch (f.fieldKind) {
    case "list":
      return [];
    case "map":
      return {};
    case "message":
      return null;
    case "enum":
      return f.enum.value[0]?.name ?? 0;
    case "scalar":
      switch (f.scalar) {
        case ScalarType.STRING:
        case ScalarType.BYTES:
          return "";
        case ScalarType.BOOL:
          return false;
        case ScalarType.INT64:
        case ScalarType.UINT64:
        case ScalarType.SINT64:
        case ScalarType.FIXED64:
        case ScalarType.SFIXED64:
          return "0";
        default:
          return 0;
      }
  }
}

/**
 * The HTTP body for a reply already converted to proto3 JSON: the whole reply, or the
 * `response_body` field (its JSON default when the field was omitted as unset). Accepts
 * replies written with JSON names or proto field names.
 */
export function selectResponseBody(route: Pick<HttpRoute, "responseBodyField">, reply: JsonValue): JsonValue {
  const f = route.responseBodyField;
  if (f === undefined) return reply;
  if (typeof reply === "object" && reply !== null && !Array.isArray(reply)) {
    const v = reply[f.jsonName] ?? reply[f.name];
    if (v !== undefined) return v;
  }
  return defaultJson(f);
}
