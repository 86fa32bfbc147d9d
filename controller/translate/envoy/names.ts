// Envoy extension names and type URLs the generated configuration uses. All are in the stock
// istio-proxy (docs/platform.md "The target").

export const TCP_PROXY = "envoy.filters.network.tcp_proxy";
export const THRIFT_PROXY = "envoy.filters.network.thrift_proxy";
export const DUBBO_PROXY = "envoy.filters.network.dubbo_proxy";
export const WASM_NETWORK = "envoy.filters.network.wasm";

export const TYPE_TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
export const TYPE_THRIFT_PROXY = "type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy";
export const TYPE_DUBBO_PROXY = "type.googleapis.com/envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy";
export const TYPE_WASM_NETWORK = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
export const TYPE_STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue";
