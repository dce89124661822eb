// A real gRPC peer that is not ours: @grpc/grpc-js, with a service definition built from our descriptors.
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, create, type DescService, type Registry } from "@bufbuild/protobuf";

export type GrpcJsImpl = Record<string, grpc.UntypedHandleCall>;

export function serviceDefinition(svc: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<any, any>> = {};
  for (const m of svc.methods) {
    def[m.name] = {
      path: `/${svc.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (v: any) => Buffer.from(toBinary(m.input, v)),
      requestDeserialize: (b: Buffer) => fromBinary(m.input, b),
      responseSerialize: (v: any) => Buffer.from(toBinary(m.output, "$typeName" in v ? v : create(m.output, v))),
      responseDeserialize: (b: Buffer) => fromBinary(m.output, b),
      originalName: m.name,
    };
  }
  return def;
}

export async function startGrpcJsServer(registry: Registry, services: Record<string, GrpcJsImpl>): Promise<{ port: number; server: grpc.Server; stop(): Promise<void> }> {
  const server = new grpc.Server();
  for (const [name, impl] of Object.entries(services)) {
    const svc = registry.getService(name);
    if (!svc) throw new Error(`no service ${name}`);
    server.addService(serviceDefinition(svc), impl);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    server,
    stop: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
