// Numbers of the proxy-wasm ABI 0.2.1 (proxy-wasm/spec abi-versions/v0.2.1/README.md), as the host
// speaks them. Names follow the spec; values are what crosses the wasm boundary.

export enum WasmResult {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4, BadExpression = 5,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, ResultMismatch = 9, InternalFailure = 10,
  BrokenConnection = 11, Unimplemented = 12,
}

export enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, DownstreamData = 2, UpstreamData = 3, HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5, VmConfiguration = 6, PluginConfiguration = 7, CallData = 8,
}
export const MAX_BUFFER_TYPE = BufferType.CallData;

export enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }
export const MAX_STREAM_TYPE = StreamType.Upstream;

export enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }

/** spdlog's levels, which Envoy hands to the module unchanged (context.cc Context::getLogLevel). */
export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }
export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error" | "critical";

/** The `peer` argument of proxy_on_{downstream,upstream}_connection_close (proxy-wasm CloseType). */
export enum CloseType { Unknown = 0, Local = 1, Remote = 2 }

/** Any non-zero return from a network callback is StopIteration in proxy-wasm-cpp-host (context.cc). */
export enum FilterStatus { Continue = 0, Pause = 1 }

export function toLogLevel(level: LogLevel | LogLevelName): LogLevel {
  if (typeof level === "number") return level;
  const names: Record<LogLevelName, LogLevel> = {
    trace: LogLevel.Trace, debug: LogLevel.Debug, info: LogLevel.Info, warn: LogLevel.Warn, error: LogLevel.Error,
    critical: LogLevel.Critical,
  };
  return names[level];
}
