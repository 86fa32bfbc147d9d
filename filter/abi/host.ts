// Calls from the module into the host (Envoy, or the Node host in test/host), proxy-wasm ABI 0.2.1.
//
// The raw `@external` declarations come from @gcoredev/proxy-wasm-sdk-as (assembly/imports.ts); this file
// only wraps them in typed functions. Out-parameters live in static memory and buffers the host hands us
// are unmanaged (allocated through our `malloc` export, see memory.ts), so a hot-path call allocates
// nothing on the GC heap. Spec: proxy-wasm/spec abi-versions/v0.2.1/README.md.
import * as abi from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { freeHostMemory } from "./memory";

export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }

export enum WasmResult {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4, BadExpression = 5,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, ResultMismatch = 9, InternalFailure = 10,
  BrokenConnection = 11, Unimplemented = 12,
}

export enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, DownstreamData = 2, UpstreamData = 3,
  HttpCallResponseBody = 4, GrpcReceiveBuffer = 5, VmConfiguration = 6, PluginConfiguration = 7,
  CallData = 8,
}

export enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }
export enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }
export enum FilterStatus { Continue = 0, Pause = 1 }
export enum PeerType { Unknown = 0, Local = 1, Remote = 2 }

// Static scratch for out-parameters: [ptr/u32 @0, size @8, u64 @16].
const scratch: usize = memory.data(32);

/** Bytes the host gave us, valid until `release()`. One at a time: the next host read replaces it. */
export class HostBytes {
  ptr: usize = 0;
  len: u32 = 0;
  release(): void {
    if (this.ptr != 0) freeHostMemory(this.ptr);
    this.ptr = 0;
    this.len = 0;
  }
  /**
   * Takes the bytes over: the caller frees them (freeHostMemory) when done; the next host read no longer
   * frees them. For bytes that must outlive other host calls (a read decoded in place).
   */
  detach(): usize {
    const ptr = this.ptr;
    this.ptr = 0;
    this.len = 0;
    return ptr;
  }
  toStringUtf8(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.len);
  }
}
export const hostBytes = new HostBytes();

/** Zeroes the out-parameters, so a host that returns Ok without writing them cannot hand us a stale pointer. */
function clearOut(): void {
  store<u64>(scratch, 0);
  store<u64>(scratch, 0, 8);
}

function takeHostBytes(): void {
  hostBytes.release();
  hostBytes.ptr = load<usize>(scratch);
  hostBytes.len = load<u32>(scratch, 8);
}

// ---- logging ----
let cachedLogLevel: LogLevel = LogLevel.Info;

/** Refreshes the cached log level; called on configure and on tick, not per request. */
export function refreshLogLevel(): void {
  if (abi.proxy_get_log_level(scratch) == WasmResult.Ok) cachedLogLevel = load<u32>(scratch) as LogLevel;
}
export function logEnabled(level: LogLevel): bool {
  return level >= cachedLogLevel;
}
export function log(level: LogLevel, message: string): void {
  if (level < cachedLogLevel) return;
  const utf8 = String.UTF8.encode(message);
  abi.proxy_log(level, changetype<usize>(utf8), utf8.byteLength);
}

// ---- time ----
export function nowNanos(): u64 {
  abi.proxy_get_current_time_nanoseconds(scratch + 16);
  return load<u64>(scratch, 16);
}

// ---- buffers ----
/** Reads [start, start+length) of a buffer into `hostBytes`. Returns false if the host has none. */
export function readBuffer(type: BufferType, start: u32, length: u32): bool {
  clearOut();
  const r = abi.proxy_get_buffer_bytes(type, start, length, scratch, scratch + 8);
  if (r != WasmResult.Ok) return false;
  takeHostBytes();
  return true;
}

/**
 * Replaces [start, start+length) of a buffer with `size` bytes at `ptr`. Envoy only honours a prefix
 * replacement (start == 0) or an append (start >= buffer length); see docs/platform.md "Rewrite".
 */
export function writeBuffer(type: BufferType, start: u32, length: u32, ptr: usize, size: u32): WasmResult {
  return abi.proxy_set_buffer_bytes(type, start, length, ptr, size) as WasmResult;
}

export function bufferLength(type: BufferType): i64 {
  if (abi.proxy_get_buffer_status(type, scratch, scratch + 8) != WasmResult.Ok) return -1;
  return load<u32>(scratch) as i64;
}

// ---- properties ----
/** Reads a property (path segments joined by NUL, e.g. "plugin_name"); null when absent. */
export function getProperty(path: string): string | null {
  const p = String.UTF8.encode(path);
  clearOut();
  if (abi.proxy_get_property(changetype<usize>(p), p.byteLength, scratch, scratch + 8) != WasmResult.Ok) return null;
  takeHostBytes();
  const s = hostBytes.toStringUtf8();
  hostBytes.release();
  return s;
}

/** Reads an integer property (Envoy serializes int64 as 8 bytes little-endian); `fallback` when absent. */
export function getPropertyI64(path: string, fallback: i64): i64 {
  const p = String.UTF8.encode(path);
  clearOut();
  if (abi.proxy_get_property(changetype<usize>(p), p.byteLength, scratch, scratch + 8) != WasmResult.Ok) return fallback;
  takeHostBytes();
  const v = hostBytes.len == 8 ? load<i64>(hostBytes.ptr) : fallback;
  hostBytes.release();
  return v;
}

// ---- metrics ----
/** Defines a metric; returns its id, or u32.MAX_VALUE when the host refused it (then updates are no-ops). */
export function defineMetric(type: MetricType, name: string): u32 {
  const n = String.UTF8.encode(name);
  if (abi.proxy_define_metric(type, changetype<usize>(n), n.byteLength, scratch) != WasmResult.Ok) return u32.MAX_VALUE;
  return load<u32>(scratch);
}
export function incrementMetric(id: u32, delta: i64): void {
  if (id != u32.MAX_VALUE) abi.proxy_increment_metric(id, delta);
}
export function recordMetric(id: u32, value: u64): void {
  if (id != u32.MAX_VALUE) abi.proxy_record_metric(id, value);
}
export function getMetric(id: u32): u64 {
  if (id == u32.MAX_VALUE || abi.proxy_get_metric(id, scratch + 16) != WasmResult.Ok) return 0;
  return load<u64>(scratch, 16);
}

// ---- shared data (process-wide, CAS) ----
export let sharedCas: u32 = 0;
/** Reads a shared value into `hostBytes` and its CAS into `sharedCas`. Returns the host's result. */
export function getSharedData(key: string): WasmResult {
  return getSharedDataUtf8(String.UTF8.encode(key));
}
/** getSharedData with a pre-encoded key (no allocation on the hot path). */
export function getSharedDataUtf8(k: ArrayBuffer): WasmResult {
  clearOut();
  const r = abi.proxy_get_shared_data(changetype<usize>(k), k.byteLength, scratch, scratch + 8, scratch + 16) as WasmResult;
  if (r == WasmResult.Ok) {
    takeHostBytes();
    sharedCas = load<u32>(scratch, 16);
  }
  return r;
}
export function setSharedData(key: string, ptr: usize, size: u32, cas: u32): WasmResult {
  return setSharedDataUtf8(String.UTF8.encode(key), ptr, size, cas);
}
export function setSharedDataUtf8(k: ArrayBuffer, ptr: usize, size: u32, cas: u32): WasmResult {
  return abi.proxy_set_shared_data(changetype<usize>(k), k.byteLength, ptr, size, cas) as WasmResult;
}

// ---- streams, timers, foreign functions ----
export function continueStream(type: StreamType): WasmResult {
  return abi.proxy_continue_stream(type) as WasmResult;
}
export function closeStream(type: StreamType): WasmResult {
  return abi.proxy_close_stream(type) as WasmResult;
}
/** Makes later calls act on context `id` (e.g. a connection, from the root's tick); Envoy resets it after the callback. */
export function setEffectiveContext(id: u32): WasmResult {
  return abi.proxy_set_effective_context(id) as WasmResult;
}
export function setTickPeriod(ms: u32): WasmResult {
  return abi.proxy_set_tick_period_milliseconds(ms) as WasmResult;
}
/** Calls a host foreign function; on Ok the result is in `hostBytes`. */
export function callForeignFunction(name: string, argPtr: usize, argLen: u32): WasmResult {
  const n = String.UTF8.encode(name);
  clearOut();
  const r = abi.proxy_call_foreign_function(changetype<usize>(n), n.byteLength, argPtr, argLen, scratch, scratch + 8) as WasmResult;
  if (r == WasmResult.Ok) takeHostBytes();
  return r;
}
