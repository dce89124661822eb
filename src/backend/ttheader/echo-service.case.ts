// The demo EchoService as a TTHeader test backend, shared by the server tests.
import { create, fromBinary, toBinary, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { GatewayError, GrpcCode, sleep } from "../../core/index.ts";
import type { MethodRef } from "../../upstream/index.ts";
import { BizError, type HandlerContext, type Msg, type ServiceImplementation } from "../types.ts";

export const ECHO: MethodRef = { service: "demo.v1.EchoService", method: "Echo", path: "/demo.v1.EchoService/Echo" };

export interface EchoLog {
  /** Every call's context, in arrival order. */
  readonly calls: { text: string; metadata: Readonly<Record<string, string>>; deadline: number | undefined }[];
  /** Texts of calls whose ctx.signal fired while they waited. */
  readonly aborted: string[];
}

/**
 * Echo(text, n, blob, delay_ms, size): waits delay_ms (honouring ctx.signal), then
 * echoes. Special texts: "biz"/"bizextra" throw BizError, "err" a plain Error,
 * "unimplemented"/"notfound" GatewayErrors, "meta" copies request metadata back
 * as response metadata (prefixed "seen-"), "stubborn" ignores the signal.
 */
export function echoService(registry: Registry, log: EchoLog): ServiceImplementation {
  return {
    registry,
    handlers: {
      "demo.v1.EchoService/Echo": async (req: Msg, ctx: HandlerContext) => {
        const text = String(req.text);
        log.calls.push({ text, metadata: ctx.metadata, deadline: ctx.deadline });
        if (req.delayMs > 0) {
          if (text === "stubborn") await sleep(req.delayMs);
          else {
            try {
              await sleep(req.delayMs, ctx.signal);
            } catch (e) {
              log.aborted.push(text);
              throw e;
            }
          }
        }
        switch (text) {
          case "biz": throw new BizError(1001, "user not found");
          case "bizextra": throw new BizError(1002, "quota exceeded", { retry_after: "5" });
          case "err": throw new Error("boom: handler failed");
          case "unimplemented": throw new GatewayError({ code: GrpcCode.UNIMPLEMENTED, reason: "x", message: "not here" });
          case "notfound": throw new GatewayError({ code: GrpcCode.NOT_FOUND, reason: "x", message: "no such thing" });
          case "meta":
            for (const [k, v] of Object.entries(ctx.metadata)) ctx.responseMetadata[`seen-${k}`] = v;
        }
        return { text, n: req.n, blob: req.size > 0 ? new Uint8Array(req.size).fill(7) : req.blob };
      },
    },
  };
}

export function echoCodec(registry: Registry) {
  const req = registry.getMessage("demo.v1.EchoRequest") as DescMessage;
  const res = registry.getMessage("demo.v1.EchoResponse") as DescMessage;
  return {
    request: (init: { text: string; n?: bigint; delayMs?: number; size?: number; blob?: Uint8Array }) => toBinary(req, create(req, init as never)),
    response: (bytes: Uint8Array) => fromBinary(res, bytes) as unknown as { text: string; n: bigint; blob: Uint8Array },
  };
}
