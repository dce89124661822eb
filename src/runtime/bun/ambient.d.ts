// The slice of Bun's API we use (instead of depending on bun-types).
interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
  requestIP(req: Request): { address: string } | null;
  timeout(req: Request, seconds: number): void;
}
interface BunServeOptions {
  port: number;
  hostname: string;
  maxRequestBodySize?: number;
  idleTimeout?: number;
  fetch(req: Request, server: BunServer): Response | Promise<Response>;
  error?(err: Error): Response;
}
declare var Bun: { serve(o: BunServeOptions): BunServer; version: string; gc(force: boolean): void };
