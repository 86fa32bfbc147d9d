// proxy_grpc_call for the Node host: the call is recorded, and the test answers it (the message, as
// proxy_on_grpc_receive with the GrpcReceiveBuffer) or fails it (proxy_on_grpc_close with a gRPC
// status), when and in which order it wants. As in Envoy (context.cc grpcCall, proxy-wasm-cpp-host
// exports.cc grpc_call): the call belongs to the root context of whichever context made it, and its
// outcome is delivered to that root; `service` is a serialized envoy.config.core.v3.GrpcService, or a
// bare cluster name when those bytes do not parse as one; a cluster the host does not know gives
// ParseFailure. A successful unary call gets no proxy_on_grpc_close (seen in the real Envoy:
// test/ratelimit/root-grpc.test.ts). No timeouts: a test fails the call itself (status 4, DEADLINE_EXCEEDED).

export interface GrpcCall {
  token: number;
  rootId: number;
  cluster: string;
  serviceName: string;
  method: string;
  request: Buffer;
  timeoutMs: number;
}

/** GrpcService.envoy_grpc (1).cluster_name (1), or undefined when the bytes are not that message. */
export function clusterOfGrpcService(bytes: Buffer): string | undefined {
  const field = (buf: Buffer, want: number): Buffer | undefined => {
    let i = 0;
    let found: Buffer | undefined;
    while (i < buf.length) {
      const key = buf[i++]!;
      if ((key & 7) !== 2 || key & 0x80) return undefined; // only short length-delimited fields here
      let len = 0;
      for (let shift = 0; ; shift += 7) {
        if (i >= buf.length || shift > 28) return undefined;
        const b = buf[i++]!;
        len |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) break;
      }
      if (i + len > buf.length) return undefined;
      if (key >> 3 === want) found = buf.subarray(i, i + len);
      i += len;
    }
    return found;
  };
  const envoyGrpc = field(bytes, 1);
  const name = envoyGrpc ? field(envoyGrpc, 1) : undefined;
  return name && name.length > 0 ? name.toString("utf8") : undefined;
}
