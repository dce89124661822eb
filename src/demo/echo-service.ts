// demo.v1.EchoService handlers (contract in idl/demo/v1/echo.proto).
import { GatewayError, GrpcCode, sleep } from "../core/index.ts";
import { BizError, type HandlerContext, type HandlerMap } from "../backend/index.ts";

interface EchoRequest { text: string; n: bigint; blob: Uint8Array; delayMs: number; size: number }

function patternBlob(size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = i & 0xff;
  return b;
}

async function wait(ms: number, ctx: HandlerContext): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, ctx.signal);
  } catch {
    throw new GatewayError({ code: GrpcCode.CANCELLED, reason: "cancelled", message: "cancelled by caller" });
  }
}

export interface EchoStats {
  echoCompleted: number;
  echoCancelled: number;
}

export function echoHandlers(stats: EchoStats): HandlerMap {
  return {
    "demo.v1.EchoService/Echo": async (req: EchoRequest, ctx: HandlerContext) => {
      try {
        await wait(req.delayMs, ctx);
      } catch (e) {
        stats.echoCancelled++;
        throw e;
      }
      stats.echoCompleted++;
      if (req.text === "fail:internal") throw new GatewayError({ code: GrpcCode.INTERNAL, reason: "demo", message: "demo failure" });
      if (req.text === "fail:unavailable") throw new GatewayError({ code: GrpcCode.UNAVAILABLE, reason: "demo", message: "demo unavailable" });
      // Business errors, as the Kitex captures' handler returns them (shared/protocol vectors 03/04).
      if (req.text === "biz") throw new BizError(1001, "user not found");
      if (req.text === "bizextra") throw new BizError(1002, "quota exceeded", { retry_after: "5" });
      return { text: req.text, n: req.n, blob: req.size > 0 ? patternBlob(req.size) : req.blob };
    },
    "demo.v1.EchoService/EchoStream": async function* (req: EchoRequest, ctx: HandlerContext) {
      const count = req.n === 0n ? 3 : Number(req.n);
      for (let i = 0; i < count; i++) {
        await wait(req.delayMs, ctx);
        if (req.text === "fail:midstream" && i === 2) {
          throw new GatewayError({ code: GrpcCode.ABORTED, reason: "demo", message: "demo failure mid-stream" });
        }
        yield { text: `${req.text}${i}`, n: BigInt(i), blob: req.size > 0 ? patternBlob(req.size) : new Uint8Array(0) };
      }
    },
    "demo.v1.EchoService/Collect": async (reqs: AsyncIterable<EchoRequest>) => {
      let n = 0n;
      let text = "";
      for await (const r of reqs) {
        n++;
        text += r.text;
      }
      return { text, n };
    },
  };
}
