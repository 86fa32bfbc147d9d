// The buffers proxy_get_buffer_bytes / proxy_get_buffer_status / proxy_set_buffer_bytes work on.
import { WasmResult } from "./abi";

export interface HostBuffer {
  bytes(): Buffer;
  set(start: number, length: number, data: Buffer): WasmResult;
}

/**
 * A buffer the module may read but not change: VM and plugin configuration, and the "no buffer here"
 * case (e.g. DownstreamData outside a data callback), which Envoy presents as empty with Ok and refuses
 * to set (Envoy's Buffer wrapper with no instance falls back to proxy-wasm's BufferBase::copyFrom).
 */
export class ReadOnlyBuffer implements HostBuffer {
  constructor(private readonly data: Buffer) {}
  bytes(): Buffer {
    return this.data;
  }
  set(): WasmResult {
    return WasmResult.BadArgument;
  }
}

export const NO_BUFFER = new ReadOnlyBuffer(Buffer.alloc(0));

/** A connection's read or write buffer: Envoy's rules for changing a Buffer::Instance apply. */
export class NetworkBuffer implements HostBuffer {
  constructor(private readonly get: () => Buffer, private readonly replace: (b: Buffer) => void) {}
  bytes(): Buffer {
    return this.get();
  }
  set(start: number, length: number, data: Buffer): WasmResult {
    const next = setBufferBytes(this.get(), start, length, data);
    if (next === null) return WasmResult.BadArgument;
    this.replace(next);
    return WasmResult.Ok;
  }
}

/**
 * Envoy's Buffer::copyFrom (source/extensions/common/wasm/context.cc, current main): start == 0 drains
 * `length` bytes (all of them if length >= size) and prepends `data`, so (0,0) prepends and (0,n)
 * replaces a prefix; start >= size appends; any other start (a splice in the middle) is BadArgument
 * (null here). Older Envoy releases only allowed (0,0), (0, >= size) and append.
 */
export function setBufferBytes(current: Buffer, start: number, length: number, data: Buffer): Buffer | null {
  if (start === 0) return Buffer.concat([data, current.subarray(Math.min(length, current.length))]);
  if (start >= current.length) return Buffer.concat([current, data]);
  return null;
}
