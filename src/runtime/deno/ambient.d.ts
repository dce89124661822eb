// The slice of Deno's API we use (instead of depending on Deno's lib types).
interface DenoHttpServer {
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}
declare var Deno: {
  serve(
    o: { port: number; hostname: string; onListen?: (a: { port: number; hostname: string }) => void; signal?: AbortSignal },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoHttpServer;
  version: { deno: string };
};
