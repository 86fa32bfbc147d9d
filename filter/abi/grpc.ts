// proxy_grpc_call, declared here with the host's 12 arguments (proxy-wasm-cpp-host src/exports.cc
// grpc_call: service, service name, method, initial metadata pairs, request, timeout, token out).
// @gcoredev/proxy-wasm-sdk-as (assembly/imports.ts) declares it with 10, without the metadata pair, and
// a module importing that declaration does not load in Envoy ("import type mismatch:
// env.proxy_grpc_call", docs/global-rate-limit.md). Whichever context calls, the host runs the call on
// its root context, so the answer comes back to the root (proxy_on_grpc_receive / proxy_on_grpc_close,
// exports.ts).
import { BufferType, WasmResult, readBuffer } from "./host";

// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
declare function proxy_grpc_call(servicePtr: usize, serviceLen: usize, serviceNamePtr: usize, serviceNameLen: usize,
  methodPtr: usize, methodLen: usize, metadataPtr: usize, metadataLen: usize, requestPtr: usize, requestLen: usize,
  timeoutMs: u32, tokenPtr: usize): u32;

const tokenOut: usize = memory.data(8);

/** The token of the last call that returned Ok. */
export let grpcToken: u32 = 0;

/**
 * Starts a unary gRPC call. `service` is a serialized envoy.config.core.v3.GrpcService (Envoy also
 * takes a bare cluster name, but only when those bytes fail to parse as the proto: not relied on).
 * No initial metadata. On Ok the call's token is in `grpcToken`; Envoy answers BadArgument or
 * ParseFailure at once for an unknown cluster.
 */
export function grpcCall(service: ArrayBuffer, serviceName: ArrayBuffer, method: ArrayBuffer, requestPtr: usize, requestLen: u32, timeoutMs: u32): WasmResult {
  store<u32>(tokenOut, 0);
  const r = proxy_grpc_call(changetype<usize>(service), service.byteLength, changetype<usize>(serviceName), serviceName.byteLength,
    changetype<usize>(method), method.byteLength, 0, 0, requestPtr, requestLen, timeoutMs, tokenOut) as WasmResult;
  if (r == WasmResult.Ok) grpcToken = load<u32>(tokenOut);
  return r;
}

/** Reads a gRPC message that arrived (proxy_on_grpc_receive's `size`) into `hostBytes`. */
export function readGrpcMessage(size: u32): bool {
  return readBuffer(BufferType.GrpcReceiveBuffer, 0, size);
}
