// The Envoy configuration of Meltemi's routing modes, as plain functions with no Kubernetes types:
// the controller wraps them in EnvoyFilters, and the real-Envoy tests build bootstraps from them.
export * from "./names";
export * from "./routing_key";
export * from "./tcp_proxy";
export * from "./thrift_proxy";
export * from "./dubbo_proxy";
export * from "./wasm_filter";
export * from "./stats_tags";
export * from "./http2_cluster";
