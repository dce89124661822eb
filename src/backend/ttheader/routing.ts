import type { DescMethod, Registry } from "@bufbuild/protobuf";
import { ExceptionType, type ExceptionInfo } from "../../protocol/ttheader/index.ts";
import type { AnyHandler, HandlerMap } from "../types.ts";

export interface Route {
  readonly key: string;
  readonly method: DescMethod;
  readonly handler: AnyHandler;
}

interface Entry extends Route {
  readonly service: string;
  readonly shortService: string;
}

/**
 * Finds handlers the way Kitex routes TTHeader calls (spec §2.3): the method name
 * comes from the payload; the service from the `isn` header (short IDL name, the
 * full name is accepted too) or, without it, the first service with that method.
 */
export class Router {
  readonly #byMethod = new Map<string, Entry[]>();
  readonly #services = new Set<string>();

  constructor(registry: Registry, handlers: HandlerMap) {
    for (const [key, handler] of Object.entries(handlers)) {
      const slash = key.lastIndexOf("/");
      const service = key.slice(0, slash);
      const name = key.slice(slash + 1);
      const desc = registry.getService(service);
      const method = desc?.methods.find((m) => m.name === name);
      if (slash <= 0 || !method) throw new Error(`handler ${JSON.stringify(key)}: no such method in the registry`);
      const shortService = service.slice(service.lastIndexOf(".") + 1);
      this.#services.add(service).add(shortService);
      const list = this.#byMethod.get(name) ?? [];
      list.push({ key, method, handler, service, shortService });
      this.#byMethod.set(name, list);
    }
  }

  /** The route, or the exception Kitex sends for a routing miss (§2.1, §12.2). */
  find(method: string, isn: string | undefined): Route | ExceptionInfo {
    const candidates = this.#byMethod.get(method) ?? [];
    if (!isn) return candidates[0] ?? { typeId: ExceptionType.unknownMethod, message: `unknown method ${method}` };
    const hit = candidates.find((c) => c.shortService === isn || c.service === isn);
    if (hit) return hit;
    if (this.#services.has(isn)) return { typeId: ExceptionType.unknownMethod, message: `unknown method ${method} (service ${isn})` };
    return { typeId: ExceptionType.unknownService, message: `unknown service ${isn}, method ${method}` };
  }
}

export function isRoute(r: Route | ExceptionInfo): r is Route {
  return "handler" in r;
}
