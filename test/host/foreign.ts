// Foreign functions (proxy_call_foreign_function): Envoy looks the name up among the functions it
// registered and answers NotFound for any other name (proxy-wasm-cpp-host src/exports.cc). The host
// starts with the two a network filter can use in Envoy (source/extensions/common/wasm/foreign.cc):
// set_envoy_filter_state and clear_route_cache. Tests add or replace handlers by name.
import { WasmResult } from "./abi";
import type { Connection } from "./connection";

export interface ForeignCall {
  readonly name: string;
  readonly args: Buffer;
  /** The context the call was made in (after proxy_set_effective_context). */
  readonly contextId: number;
  /** The connection of that context, or null for a root context. */
  readonly connection: Connection | null;
  /** What the host answered. */
  result?: WasmResult;
}

/** A handler returns a result code, optionally with bytes handed back to the module. */
export type ForeignFunction = (call: ForeignCall) => WasmResult | { result: WasmResult; data?: Uint8Array };

/** Filter state keys Envoy has object factories for (docs/root/configuration/advanced/well_known_filter_state.rst). */
export const WELL_KNOWN_FILTER_STATE_KEYS: readonly string[] = [
  "envoy.network.upstream_server_name",
  "envoy.network.application_protocols",
  "envoy.network.upstream_subject_alt_names",
  "envoy.tcp_proxy.cluster",
  "envoy.network.transport_socket.original_dst_address",
  "envoy.filters.listener.original_dst.local_ip",
  "envoy.filters.listener.original_dst.remote_ip",
  "envoy.upstream.dynamic_host",
  "envoy.upstream.dynamic_port",
  "envoy.tcp_proxy.disable_tunneling",
];

export interface FilterStateArgs {
  path: string;
  value: Buffer;
  /** LifeSpan enum of set_envoy_filter_state.proto (0 FilterChain, 1 DownstreamRequest, 2 DownstreamConnection). */
  span: number;
}

/**
 * set_envoy_filter_state as Envoy does it (context.cc Context::setEnvoyFilterState): BadArgument when
 * the argument is not the protobuf SetEnvoyFilterStateArguments, NotFound for a key without an object
 * factory, NotFound without a stream (called from a root context); else the value is stored in the
 * connection's filter state.
 */
export function setEnvoyFilterState(knownKeys: ReadonlySet<string>): ForeignFunction {
  return (call) => {
    const args = decodeFilterStateArgs(call.args);
    if (!args) return WasmResult.BadArgument;
    if (!knownKeys.has(args.path)) return WasmResult.NotFound;
    if (!call.connection) return WasmResult.NotFound;
    call.connection.filterState.set(args.path, { value: args.value, span: args.span });
    return WasmResult.Ok;
  };
}

export const clearRouteCache: ForeignFunction = () => WasmResult.Ok;

// SetEnvoyFilterStateArguments (source/extensions/common/wasm/ext/set_envoy_filter_state.proto):
// 1: string path, 2: string value, 3: LifeSpan span. Three fields do not justify a protobuf library;
// this is the wire format (varint keys; wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).

export function encodeFilterStateArgs(path: string, value: string | Uint8Array, span = 0): Buffer {
  const parts = [lengthDelimited(1, Buffer.from(path, "utf8")), lengthDelimited(2, Buffer.from(value))];
  if (span !== 0) parts.push(Buffer.from([(3 << 3) | 0, ...varint(span)]));
  return Buffer.concat(parts);
}

export function decodeFilterStateArgs(bytes: Buffer): FilterStateArgs | null {
  const out: FilterStateArgs = { path: "", value: Buffer.alloc(0), span: 0 };
  let at = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    if (!key) return null;
    at = key.next;
    const field = Number(key.value >> 3n);
    const wire = Number(key.value & 7n);
    if (wire === 0) {
      const v = readVarint(bytes, at);
      if (!v) return null;
      at = v.next;
      if (field === 3) out.span = Number(v.value);
    } else if (wire === 2) {
      const len = readVarint(bytes, at);
      if (!len || len.next + Number(len.value) > bytes.length) return null;
      const payload = bytes.subarray(len.next, len.next + Number(len.value));
      at = len.next + Number(len.value);
      if (field === 1) out.path = payload.toString("utf8");
      else if (field === 2) out.value = Buffer.from(payload);
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > bytes.length) return null;
    } else {
      return null;
    }
  }
  return out;
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(payload.length)]), payload]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

function readVarint(bytes: Buffer, at: number): { value: bigint; next: number } | null {
  let value = 0n;
  for (let shift = 0n, i = at; i < bytes.length && shift < 70n; i++, shift += 7n) {
    value |= BigInt(bytes[i] & 0x7f) << shift;
    if ((bytes[i] & 0x80) === 0) return { value, next: i + 1 };
  }
  return null;
}
