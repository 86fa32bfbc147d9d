// The Node proxy-wasm host: see README.md.
export { BufferType, CloseType, FilterStatus, LogLevel, MetricType, StreamType, WasmResult } from "./abi";
export type { LogLevelName } from "./abi";
export { Connection } from "./connection";
export type { CloseReason, FilterStateEntry, StepResult } from "./connection";
export { encodeFilterStateArgs, decodeFilterStateArgs, WELL_KNOWN_FILTER_STATE_KEYS } from "./foreign";
export type { ForeignCall, ForeignFunction } from "./foreign";
export { clusterOfGrpcService } from "./grpc";
export type { GrpcCall } from "./grpc";
export { RootContext, VmFailedError, WasmHost, WasmTrapError } from "./host";
export type { LoadOptions, LogEntry, PropertyWrite } from "./host";
export { decodePairs, encodePairs } from "./http-call";
export type { HttpCall, HttpCallAnswer } from "./http-call";
export { MetricStore } from "./metrics";
export type { MetricValue } from "./metrics";
export { encodeProperty } from "./properties";
export type { PropertyValue } from "./properties";
export { SharedState } from "./shared-state";
export type { SharedStateOptions } from "./shared-state";
