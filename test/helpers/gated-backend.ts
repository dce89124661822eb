// A gRPC and TTHeader backend (our server kit) whose demo.v1.EchoService/Echo holds every call until the
// test opens the gate: tests decide exactly how many calls are in flight, with no timing assumptions.
import { serveGrpc, serveTTHeader, type GrpcServer, type TTHeaderServer } from "../../src/backend/index.ts";
import type { HandlerContext } from "../../src/backend/index.ts";
import { registryFromDescriptorSets } from "../../src/transcode/index.ts";
import { runtime } from "./fault-gateway.ts";
import { DESCRIPTORS } from "./stack.ts";

export interface GatedBackend {
  readonly grpcPort: number;
  readonly ttheaderPort: number;
  /** Calls inside the handler now. */
  readonly held: number;
  /** Most calls inside the handler at once so far. */
  readonly peak: number;
  /** Calls that reached the handler so far. */
  readonly entered: number;
  /** Metadata and deadline of every call, in arrival order. */
  readonly seen: { text: string; metadata: Record<string, string>; deadline: number | undefined }[];
  /** Lets every held call (and every later one) finish. */
  open(): void;
  /** Later calls are held again. */
  close(): void;
  stop(): Promise<void>;
}

export async function startGatedBackend(o: { maxConcurrentStreams?: number } = {}): Promise<GatedBackend> {
  const rt = await runtime();
  const registry = registryFromDescriptorSets([await rt.readFile(DESCRIPTORS)]);
  let release: (() => void) | undefined;
  let gate: Promise<void> = new Promise((r) => (release = r));
  let held = 0;
  let peak = 0;
  let entered = 0;
  const seen: GatedBackend["seen"] = [];
  const handlers = {
    "demo.v1.EchoService/Echo": async (req: { text: string; n: bigint }, ctx: HandlerContext) => {
      entered++;
      seen.push({ text: req.text, metadata: { ...ctx.metadata }, deadline: ctx.deadline });
      held++;
      peak = Math.max(peak, held);
      try {
        await gate;
      } finally {
        held--;
      }
      return { text: req.text, n: req.n };
    },
  };
  const service = { registry, handlers };
  const grpc: GrpcServer = await serveGrpc({ serveH2: rt.serveH2, hostname: "127.0.0.1", port: 0, service, maxConcurrentStreams: o.maxConcurrentStreams });
  const tt: TTHeaderServer = await serveTTHeader({ listenTcp: rt.listenTcp, hostname: "127.0.0.1", port: 0, service });
  return {
    grpcPort: grpc.port,
    ttheaderPort: tt.port,
    get held() { return held; },
    get peak() { return peak; },
    get entered() { return entered; },
    seen,
    open: () => release?.(),
    close: () => {
      gate = new Promise((r) => (release = r));
    },
    stop: async () => {
      release?.();
      grpc.destroy();
      tt.destroy();
    },
  };
}
