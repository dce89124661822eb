// Shared by our gRPC and TTHeader servers: find the handler for a method, decode the request,
// run the handler, encode the reply. Messages are handled by reflection over the registry.
import { create, fromBinary, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import type { AnyHandler, ServiceImplementation } from "./types.ts";

export interface MethodEntry {
  readonly desc: DescMethod;
  readonly handler: AnyHandler;
  /** "pkg.Service/Method" */
  readonly key: string;
  decode(bytes: Uint8Array): unknown;
  encode(reply: unknown): Uint8Array;
}

export interface MethodTable {
  /** By "/pkg.Service/Method" (gRPC path) or "pkg.Service/Method". */
  byPath(path: string): MethodEntry | undefined;
  /** TTHeader carries only the method name (plus to-service): look up by name, optionally within a service. */
  byName(method: string, service?: string): MethodEntry | undefined;
}

export function createMethodTable(impl: ServiceImplementation): MethodTable {
  const byKey = new Map<string, MethodEntry>();
  const byMethod = new Map<string, MethodEntry[]>();
  for (const [key, handler] of Object.entries(impl.handlers)) {
    const slash = key.lastIndexOf("/");
    const svcName = key.slice(0, slash).replace(/^\//, "");
    const methodName = key.slice(slash + 1);
    const svc = impl.registry.getService(svcName);
    const desc = svc?.methods.find((m) => m.name === methodName);
    if (!desc) throw new Error(`handler "${key}" does not match any method in the registry`);
    const entry: MethodEntry = {
      desc,
      handler,
      key: `${svcName}/${methodName}`,
      decode: (bytes) => {
        try {
          return fromBinary(desc.input, bytes);
        } catch (e) {
          throw new GatewayError({ code: GrpcCode.INVALID_ARGUMENT, reason: Reason.badField, message: `request is not a valid ${desc.input.typeName}: ${(e as Error).message}` });
        }
      },
      encode: (reply) => {
        const msg = typeof reply === "object" && reply !== null && "$typeName" in reply ? reply : create(desc.output, (reply ?? {}) as never);
        return toBinary(desc.output, msg as never);
      },
    };
    byKey.set(entry.key, entry);
    const list = byMethod.get(methodName) ?? [];
    list.push(entry);
    byMethod.set(methodName, list);
  }
  return {
    byPath: (path) => byKey.get(path[0] === "/" ? path.slice(1) : path),
    byName: (method, service) => {
      const list = byMethod.get(method);
      if (!list) return undefined;
      if (service) return list.find((e) => e.desc.parent.typeName === service || e.desc.parent.name === service) ?? list[0];
      return list[0];
    },
  };
}
