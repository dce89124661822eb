// Field lookup by proto name (and, for query parameters, by JSON name too: proto3 JSON
// accepts both, and so do grpc-gateway and Envoy for query parameters).

import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { err, ok, type Result } from "../../core/index.ts";

interface FieldIndex {
  readonly byName: ReadonlyMap<string, DescField>;
  readonly byNameOrJson: ReadonlyMap<string, DescField>;
}

// Bounded by the number of message descriptors in the registry.
const indexes = new WeakMap<DescMessage, FieldIndex>();

function indexOf(msg: DescMessage): FieldIndex {
  let idx = indexes.get(msg);
  if (idx === undefined) {
    const byName = new Map<string, DescField>();
    const byNameOrJson = new Map<string, DescField>();
    for (const f of msg.fields) {
      byName.set(f.name, f);
      byNameOrJson.set(f.name, f);
    }
    for (const f of msg.fields) if (!byNameOrJson.has(f.jsonName)) byNameOrJson.set(f.jsonName, f);
    idx = { byName, byNameOrJson };
    indexes.set(msg, idx);
  }
  return idx;
}

export function fieldByName(msg: DescMessage, name: string, acceptJsonName: boolean): DescField | undefined {
  const idx = indexOf(msg);
  return (acceptJsonName ? idx.byNameOrJson : idx.byName).get(name);
}

/** How a field may be used as the target of a path variable or query parameter. */
export function describeField(f: DescField): string {
  switch (f.fieldKind) {
    case "list":
      return `repeated ${f.listKind === "message" ? f.message.typeName : f.listKind === "enum" ? f.enum.typeName : "scalar"} field`;
    case "map":
      return "map field";
    case "message":
      return `message field (${f.message.typeName})`;
    case "enum":
      return `enum field (${f.enum.typeName})`;
    case "scalar":
      return "scalar field";
  }
}

/**
 * Resolve a dotted path of proto field names through singular message fields.
 * Returns the chain of fields; the leaf is not checked here.
 */
export function resolveFieldPath(msg: DescMessage, path: readonly string[]): Result<DescField[], string> {
  const chain: DescField[] = [];
  let cur: DescMessage = msg;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    const f = fieldByName(cur, name, false);
    if (f === undefined) return err(`${cur.typeName} has no field "${name}"`);
    chain.push(f);
    if (i < path.length - 1) {
      if (f.fieldKind !== "message") {
        return err(`"${path.slice(0, i + 1).join(".")}" is a ${describeField(f)}, not a singular message field, so it has no field "${path[i + 1]}"`);
      }
      cur = f.message;
    }
  }
  return ok(chain);
}
