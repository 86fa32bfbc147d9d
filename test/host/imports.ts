// The `env.proxy_*` functions of ABI 0.2.1 that Envoy registers for a module (proxy-wasm-cpp-host
// src/wasm.cc registerCallbacks: FOR_ALL_HOST_FUNCTIONS plus continue_stream, close_stream and
// get_log_level for 0.2.1). Each follows src/exports.cc and Envoy's context.cc; the comments say where
// the host cannot do what Envoy does. i32 arguments arrive as signed JS numbers (hence `>>> 0`), i64
// arguments as BigInt.
import { BufferType, LogLevel, MAX_STREAM_TYPE, StreamType, WasmResult } from "./abi";
import { Connection } from "./connection";
import { decodePairs, encodePairs } from "./http-call";
import type { ForeignCall } from "./foreign";
import type { WasmHost } from "./host";
import { clusterOfGrpcService } from "./grpc";
import { propertyPath } from "./properties";

type ImportFunction = (...args: never[]) => number;

const MAX_HEADER_MAP_TYPE = 7; // HttpCallResponseTrailers

export function proxyImports(h: WasmHost): Record<string, ImportFunction> {
  const mem = () => h.memory;
  const text = (ptr: number, size: number): string | null => mem().read(ptr >>> 0, size >>> 0)?.toString("utf8") ?? null;

  const imports = {
    // ---- logging, time, timers ----
    proxy_log(level: number, ptr: number, size: number): number {
      if (level >>> 0 > LogLevel.Critical) return WasmResult.BadArgument;
      const message = text(ptr, size);
      if (message === null) return WasmResult.InvalidMemoryAccess;
      h.moduleLog(level >>> 0, message);
      return WasmResult.Ok;
    },
    proxy_get_log_level(ptr: number): number {
      return mem().writeU32(ptr >>> 0, h.logLevel) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_current_time_nanoseconds(ptr: number): number {
      return mem().writeU64(ptr >>> 0, h.shared.nowNanos) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_tick_period_milliseconds(ms: number): number {
      h.setTickPeriod(h.rootOf(h.requireContext()), ms >>> 0); // the root of a stream context (context.cc)
      return WasmResult.Ok;
    },

    // ---- properties ----
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const path = text(pathPtr, pathSize);
      if (path === null) return WasmResult.InvalidMemoryAccess;
      const value = h.property(propertyPath(path));
      if (value === undefined) return WasmResult.NotFound;
      return mem().copyOut(value, valuePtrPtr >>> 0, valueSizePtr >>> 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const path = text(pathPtr, pathSize);
      const value = mem().read(valuePtr >>> 0, valueSize >>> 0);
      if (path === null || value === null) return WasmResult.InvalidMemoryAccess;
      const ctx = h.requireContext();
      h.propertyWrites.push({ contextId: ctx.id, path: propertyPath(path), value });
      // Envoy stores it in the stream's filter state; a root context has no stream: NotFound.
      if (!(ctx instanceof Connection)) return WasmResult.NotFound;
      ctx.properties.set(propertyPath(path), value);
      return WasmResult.Ok;
    },

    // ---- buffers ----
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      const buffer = h.buffer(type >>> 0);
      if (typeof buffer === "number") return buffer;
      const fault = h.faults.getBufferBytes?.(type >>> 0, start >>> 0, length >>> 0);
      if (fault !== undefined) return fault;
      const bytes = buffer.bytes();
      let from = start >>> 0;
      let len = length >>> 0;
      if (from > bytes.length) {
        // Envoy computes size - start in uint64 here and asks malloc for the wrapped size.
        h.warn(`get_buffer_bytes(${BufferType[type >>> 0]}, start ${from}) past the end (${bytes.length} bytes)`);
        return WasmResult.InvalidMemoryAccess;
      }
      if (from + len > bytes.length) len = bytes.length - from;
      if (len === 0) return WasmResult.Ok; // Envoy writes nothing then
      return mem().copyOut(bytes.subarray(from, from + len), ptrPtr >>> 0, sizePtr >>> 0)
        ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      const buffer = h.buffer(type >>> 0);
      if (typeof buffer === "number") return buffer;
      return mem().writeU32(lengthPtr >>> 0, buffer.bytes().length) && mem().writeU32(flagsPtr >>> 0, 0)
        ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
      const buffer = h.buffer(type >>> 0);
      if (typeof buffer === "number") return buffer;
      const data = mem().read(dataPtr >>> 0, dataSize >>> 0);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      const fault = h.faults.setBufferBytes?.(type >>> 0, start >>> 0, length >>> 0);
      if (fault !== undefined) return fault;
      return buffer.set(start >>> 0, length >>> 0, data);
    },

    // ---- stream control (network: Downstream/Upstream; HTTP types are no-ops without an HTTP stream) ----
    proxy_continue_stream(type: number): number {
      if (type >>> 0 > MAX_STREAM_TYPE) return WasmResult.BadArgument;
      if (type === StreamType.Upstream) return WasmResult.Unimplemented;
      const ctx = h.requireContext();
      if (type === StreamType.Downstream) {
        if (ctx instanceof Connection) h.defer(() => ctx.continueReading()); // Envoy defers to after the VM call
        else h.warn("continue_stream(Downstream) in a root context does nothing (Envoy: Ok, no connection); use proxy_set_effective_context first");
      }
      return WasmResult.Ok;
    },
    proxy_close_stream(type: number): number {
      if (type >>> 0 > MAX_STREAM_TYPE) return WasmResult.BadArgument;
      const ctx = h.requireContext();
      if (type === StreamType.Downstream || type === StreamType.Upstream) {
        // Both close the client connection (FlushWrite): the write filter callbacks' connection is the
        // downstream one (context.cc Context::closeStream).
        if (ctx instanceof Connection) h.defer(() => ctx.closeByFilter());
        else h.warn("close_stream in a root context does nothing (Envoy: Ok, no connection)");
      }
      return WasmResult.Ok;
    },

    // ---- shared data and queues (process-wide: SharedState) ----
    proxy_get_shared_data(keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
      const key = text(keyPtr, keySize);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const entry = h.shared.getSharedData(key, h.vmId);
      if (!entry) return WasmResult.NotFound;
      return mem().copyOut(entry.value, valuePtrPtr >>> 0, valueSizePtr >>> 0) && mem().writeU32(casPtr >>> 0, entry.cas)
        ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      const key = text(keyPtr, keySize);
      const value = mem().read(valuePtr >>> 0, valueSize >>> 0);
      if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
      return h.shared.setSharedData(key, value, cas >>> 0, h.vmId);
    },
    proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
      const name = text(namePtr, nameSize);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const token = h.shared.registerQueue(h.vmId, name, h, h.rootOf(h.requireContext()).id);
      return mem().writeU32(tokenPtr >>> 0, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
      const vmId = text(vmIdPtr, vmIdSize);
      const name = text(namePtr, nameSize);
      if (vmId === null || name === null) return WasmResult.InvalidMemoryAccess;
      const token = h.shared.resolveQueue(vmId === "" ? h.vmId : vmId, name);
      if (token === 0) return WasmResult.NotFound;
      return mem().writeU32(tokenPtr >>> 0, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token: number, dataPtr: number, dataSize: number): number {
      const data = mem().read(dataPtr >>> 0, dataSize >>> 0);
      if (data === null) return WasmResult.InvalidMemoryAccess;
      return h.shared.enqueue(token >>> 0, data);
    },
    proxy_dequeue_shared_queue(token: number, dataPtrPtr: number, dataSizePtr: number): number {
      const { result, data } = h.shared.dequeue(token >>> 0);
      if (result !== WasmResult.Ok) return result;
      return mem().copyOut(data!, dataPtrPtr >>> 0, dataSizePtr >>> 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },

    // ---- metrics ----
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      const name = text(namePtr, nameSize);
      if (name === null) return WasmResult.InvalidMemoryAccess;
      const { result, id } = h.vmMetrics.define(type >>> 0, name);
      if (result !== WasmResult.Ok) return result;
      return mem().writeU32(idPtr >>> 0, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      return h.vmMetrics.increment(id >>> 0, offset);
    },
    proxy_record_metric(id: number, value: bigint): number {
      return h.vmMetrics.record(id >>> 0, value);
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const { result, value } = h.vmMetrics.get(id >>> 0);
      if (result !== WasmResult.Ok) return result;
      return mem().writeU64(resultPtr >>> 0, value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },

    // ---- foreign functions, contexts ----
    proxy_call_foreign_function(namePtr: number, nameSize: number, argsPtr: number, argsSize: number, resultsPtr: number, resultsSizePtr: number): number {
      const name = text(namePtr, nameSize);
      const args = mem().read(argsPtr >>> 0, argsSize >>> 0);
      if (name === null || args === null) return WasmResult.InvalidMemoryAccess;
      const ctx = h.requireContext();
      const call: ForeignCall = { name, args, contextId: ctx.id, connection: ctx instanceof Connection ? ctx : null };
      h.foreignCalls.push(call);
      const handler = h.foreignFunctions.get(name);
      if (!handler) return (call.result = WasmResult.NotFound);
      const answer = handler(call);
      const { result, data } = typeof answer === "number" ? { result: answer, data: undefined } : answer;
      call.result = result;
      let address = 0;
      if (data && data.length > 0 && resultsPtr >>> 0 !== 0) {
        const p = mem().allocate(data);
        if (p === null) return WasmResult.InvalidMemoryAccess;
        address = p;
      }
      if (resultsPtr >>> 0 !== 0 && !mem().writeU32(resultsPtr >>> 0, address)) return WasmResult.InvalidMemoryAccess;
      if (resultsSizePtr >>> 0 !== 0 && !mem().writeU32(resultsSizePtr >>> 0, data?.length ?? 0)) return WasmResult.InvalidMemoryAccess;
      return result;
    },
    proxy_set_effective_context(id: number): number {
      if (!h.hasContext(id >>> 0)) return WasmResult.BadArgument;
      h.setEffectiveContext(id >>> 0); // until the current callback returns (SaveRestoreContext)
      return WasmResult.Ok;
    },
    proxy_done(): number {
      return h.rootDone(h.requireContext());
    },
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      // Only meaningful in HTTP/gRPC callout callbacks, which this host never makes: code 0, no message.
      return mem().writeU32(codePtr >>> 0, 0) && mem().copyOut(Buffer.alloc(0), messagePtrPtr >>> 0, messageSizePtr >>> 0)
        ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },

    // ---- HTTP-only calls: in a network filter Envoy has no header maps and no HTTP stream ----
    proxy_send_local_response(): number {
      h.unsupported("proxy_send_local_response");
      return WasmResult.Ok; // Envoy: Ok, and nothing happens without decoder callbacks
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      if (type >>> 0 > MAX_HEADER_MAP_TYPE) return WasmResult.BadArgument;
      const pairs = httpResponseMap(type >>> 0);
      return mem().copyOut(pairs ? encodePairs(pairs) : Buffer.alloc(0), ptrPtr >>> 0, sizePtr >>> 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const pairs = httpResponseMap(type >>> 0);
      if (!pairs) {
        h.unsupported("proxy_get_header_map_value");
        return WasmResult.BadArgument;
      }
      const key = text(keyPtr, keySize);
      if (key === null) return WasmResult.InvalidMemoryAccess;
      const found = pairs.find(([k]) => k.toLowerCase() === key.toLowerCase());
      if (!found) return WasmResult.NotFound;
      return mem().copyOut(Buffer.from(found[1]), valuePtrPtr >>> 0, valueSizePtr >>> 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value: noHeaderMap("proxy_add_header_map_value"),
    proxy_replace_header_map_value: noHeaderMap("proxy_replace_header_map_value"),
    proxy_remove_header_map_value: noHeaderMap("proxy_remove_header_map_value"),
    proxy_set_header_map_pairs: noHeaderMap("proxy_set_header_map_pairs"),
    proxy_get_header_map_size: noHeaderMap("proxy_get_header_map_size"),

    // ---- callouts: HTTP calls (http-call.ts) and gRPC unary calls (grpc.ts), answered by the test; no streams ----
    proxy_http_call(
      clusterPtr: number, clusterSize: number, headersPtr: number, headersSize: number, bodyPtr: number, bodySize: number,
      trailersPtr: number, trailersSize: number, timeoutMs: number, tokenPtr: number,
    ): number {
      const cluster = text(clusterPtr, clusterSize);
      const headerBytes = mem().read(headersPtr >>> 0, headersSize >>> 0);
      const body = mem().read(bodyPtr >>> 0, bodySize >>> 0);
      const trailerBytes = mem().read(trailersPtr >>> 0, trailersSize >>> 0);
      if (cluster === null || headerBytes === null || body === null || trailerBytes === null) return WasmResult.InvalidMemoryAccess;
      const headers = decodePairs(Buffer.from(headerBytes));
      const trailers = decodePairs(Buffer.from(trailerBytes));
      if (headers === null || trailers === null) return WasmResult.BadArgument;
      if (!h.clusters.has(cluster)) {
        h.warn(`proxy_http_call to unknown cluster "${cluster}": BadArgument`);
        return WasmResult.BadArgument;
      }
      // Envoy (context.cc Context::httpCall): BadArgument without :path, :method or :authority.
      if (![":path", ":method", ":authority"].every((name) => headers.some(([k]) => k === name))) return WasmResult.BadArgument;
      const token = h.nextHttpToken++;
      if (!mem().writeU32(tokenPtr >>> 0, token)) return WasmResult.InvalidMemoryAccess;
      h.httpCalls.push({
        token, contextId: h.requireContext().id, cluster, headers, body: Buffer.from(body), trailers, timeoutMs: timeoutMs >>> 0, answered: false,
      });
      return WasmResult.Ok;
    },
    proxy_grpc_call(servicePtr: number, serviceSize: number, namePtr: number, nameSize: number, methodPtr: number, methodSize: number,
      metadataPtr: number, metadataSize: number, requestPtr: number, requestSize: number, timeoutMs: number, tokenPtr: number): number {
      const service = mem().read(servicePtr >>> 0, serviceSize >>> 0);
      const serviceName = text(namePtr, nameSize);
      const method = text(methodPtr, methodSize);
      const request = mem().read(requestPtr >>> 0, requestSize >>> 0);
      if (service === null || serviceName === null || method === null || request === null) return WasmResult.InvalidMemoryAccess;
      if (metadataSize >>> 0 !== 0) h.warn("proxy_grpc_call: initial metadata is not modelled");
      const cluster = clusterOfGrpcService(service) ?? service.toString("utf8");
      if (h.grpcClusters !== null && !h.grpcClusters.has(cluster)) return WasmResult.ParseFailure;
      const root = h.rootOf(h.requireContext());
      const token = h.nextGrpcToken++;
      if (!mem().writeU32(tokenPtr >>> 0, token)) return WasmResult.InvalidMemoryAccess;
      const call = { token, rootId: root.id, cluster, serviceName, method, request: Buffer.from(request), timeoutMs: timeoutMs >>> 0 };
      h.grpcCalls.push(call);
      h.grpcCallLog.push(call);
      return WasmResult.Ok;
    },
    proxy_grpc_stream: noCallouts("proxy_grpc_stream"),
    proxy_grpc_send: noCallouts("proxy_grpc_send"),
    proxy_grpc_cancel: noCallouts("proxy_grpc_cancel"),
    proxy_grpc_close: noCallouts("proxy_grpc_close"),
  };

  // The maps of the HTTP call response being delivered: HttpCallResponseHeaders (6), trailers (7).
  function httpResponseMap(type: number): Array<[string, string]> | null {
    const r = h.httpResponse;
    if (!r) return null;
    return type === 6 ? r.headers : type === 7 ? r.trailers : null;
  }

  // Envoy answers BadArgument when the map does not exist, which is always the case in a network filter.
  function noHeaderMap(name: string): ImportFunction {
    return () => {
      h.unsupported(name);
      return WasmResult.BadArgument;
    };
  }
  function noCallouts(name: string): ImportFunction {
    return () => {
      h.unsupported(name);
      return WasmResult.Unimplemented;
    };
  }

  // While _initialize/_start runs, Envoy allows only logging (and some WASI) calls; the others fail with
  // InternalFailure (proxy-wasm-cpp-host src/wasm.cc startVm, setRestrictedCallback).
  const guarded: Record<string, ImportFunction> = {};
  for (const [name, fn] of Object.entries(imports) as Array<[string, (...args: never[]) => number]>) {
    guarded[name] = ((...args: never[]) => {
      if (h.starting && name !== "proxy_log") {
        h.warn(`${name} called during module start; Envoy refuses it there (InternalFailure)`);
        return WasmResult.InternalFailure;
      }
      return fn(...args);
    }) as ImportFunction;
  }
  return guarded;
}
