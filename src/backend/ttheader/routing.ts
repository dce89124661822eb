import { ExceptionType, type ExceptionInfo } from "../../protocol/ttheader/index.ts";
import { createMethodTable, type MethodEntry } from "../method-table.ts";
import type { ServiceImplementation } from "../types.ts";

export interface Router {
  /** The method, or the exception Kitex sends for a routing miss (spec §2.1, §12.2). */
  find(method: string, isn: string | undefined): MethodEntry | ExceptionInfo;
}

/**
 * Routes TTHeader calls the way Kitex does (spec §2.3): the method name comes from
 * the payload, the service from the `isn` header (short IDL name; the full name
 * works too). Like Kitex's non-strict SearchService, a method is still found by
 * name alone when `isn` names no service of ours.
 */
export function createRouter(impl: ServiceImplementation): Router {
  const table = createMethodTable(impl);
  const services = new Set<string>();
  for (const key of Object.keys(impl.handlers)) {
    const service = key.slice(0, key.lastIndexOf("/")).replace(/^\//, "");
    services.add(service).add(service.slice(service.lastIndexOf(".") + 1));
  }
  return {
    find(method, isn) {
      const entry = table.byName(method, isn);
      if (entry) return entry;
      if (!isn) return { typeId: ExceptionType.unknownMethod, message: `unknown method ${method}` };
      if (services.has(isn)) return { typeId: ExceptionType.unknownMethod, message: `unknown method ${method} (service ${isn})` };
      return { typeId: ExceptionType.unknownService, message: `unknown service ${isn}, method ${method}` };
    },
  };
}

export function isMethodEntry(r: MethodEntry | ExceptionInfo): r is MethodEntry {
  return "handler" in r;
}
