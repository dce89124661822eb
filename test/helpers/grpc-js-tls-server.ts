// A @grpc/grpc-js server over TLS (grpc.ServerCredentials.createSsl), services built from our descriptors.
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "@bufbuild/protobuf";
import { serviceDefinition, type GrpcJsImpl } from "./grpc-js-server.ts";

export interface GrpcJsTlsOptions {
  /** Server certificate chain and key, PEM. */
  readonly cert: string;
  readonly key: string;
  /** CA that client certificates must chain to (PEM); with requireClientCert: mutual TLS. */
  readonly clientCa?: string;
  /** grpc-js checkClientCertificate: refuse clients without a certificate signed by clientCa. */
  readonly requireClientCert?: boolean;
}

export interface GrpcJsTlsServer {
  readonly port: number;
  readonly server: grpc.Server;
  stop(): Promise<void>;
}

export async function startGrpcJsTlsServer(registry: Registry, services: Record<string, GrpcJsImpl>, tls: GrpcJsTlsOptions): Promise<GrpcJsTlsServer> {
  const server = new grpc.Server();
  for (const [name, impl] of Object.entries(services)) {
    const svc = registry.getService(name);
    if (!svc) throw new Error(`no service ${name}`);
    server.addService(serviceDefinition(svc), impl);
  }
  const creds = grpc.ServerCredentials.createSsl(
    tls.clientCa ? Buffer.from(tls.clientCa) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    tls.requireClientCert ?? false,
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    port,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        // Bounded: a graceful shutdown waits for open sessions; force them after a while.
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
