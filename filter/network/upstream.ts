// Picks the upstream cluster of a whole connection (perConnection mode): the foreign function
// `set_envoy_filter_state` (Envoy >= 1.28; argument: the protobuf SetEnvoyFilterStateArguments of
// source/extensions/common/wasm/ext/set_envoy_filter_state.proto: 1 path, 2 value, 3 span) creates
// the well-known object `envoy.tcp_proxy.cluster`, which tcp_proxy reads when it picks its route.
// tcp_proxy picks it when our Pause from on_new_connection ends, and it only reads the first request
// while waiting if it has `max_early_data_bytes` (checked in Envoy 1.37: without it the connection
// stalls). The controller's EnvoyFilter sets it (controller/translate/envoy/tcp_proxy.ts).
import { ByteWriter } from "../codec/bytes";
import { WasmResult, callForeignFunction, hostBytes } from "../abi/host";

const TCP_PROXY_CLUSTER = String.UTF8.encode("envoy.tcp_proxy.cluster", false);
const args = new ByteWriter();

function protoBytes(field: u32, ptr: usize, len: u32): void {
  args.u8((field << 3) | 2); // wire type 2: length-delimited
  args.uvarint(len);
  args.bytes(ptr, len);
}

export function setTcpProxyCluster(clusterUtf8: ArrayBuffer): WasmResult {
  args.clear();
  protoBytes(1, changetype<usize>(TCP_PROXY_CLUSTER), <u32>TCP_PROXY_CLUSTER.byteLength);
  protoBytes(2, changetype<usize>(clusterUtf8), <u32>clusterUtf8.byteLength);
  const r = callForeignFunction("set_envoy_filter_state", args.ptr, args.length);
  if (r == WasmResult.Ok) hostBytes.release();
  return r;
}
