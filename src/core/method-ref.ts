/** Identity of an RPC method, shared by every layer. */
export interface MethodRef {
  /** Fully-qualified service, e.g. "demo.v1.EchoService". */
  readonly service: string;
  /** Method name, e.g. "Echo". */
  readonly method: string;
  /** "/demo.v1.EchoService/Echo" (the gRPC :path). */
  readonly path: string;
}
