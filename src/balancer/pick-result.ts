import { GatewayError, GrpcCode, Reason } from "../core/index.ts";
import type { EndpointHandle, Picker, PickResult } from "./types.ts";

const QUEUE: PickResult<never> = Object.freeze({ kind: "queue" });

export function ok<E extends EndpointHandle>(endpoint: E): PickResult<E> {
  return { kind: "ok", endpoint };
}

/** Before the first endpoint list arrives: callers wait for the next picker. */
export function queuePicker<E extends EndpointHandle>(): Picker<E> {
  return { endpoints: Object.freeze([]), pick: () => QUEUE };
}

/** No pickable endpoint: every pick fails fast with UNAVAILABLE / no_endpoints (nothing was sent). */
export function failPicker<E extends EndpointHandle>(message: string, upstream?: string): Picker<E> {
  return {
    endpoints: Object.freeze([]),
    pick: () => ({
      kind: "fail",
      error: new GatewayError({
        code: GrpcCode.UNAVAILABLE, reason: Reason.noEndpoints, message, neverSent: true,
        ...(upstream !== undefined && { upstream }),
      }),
    }),
  };
}
