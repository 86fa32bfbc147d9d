// HTTP callouts (proxy-wasm ABI 0.2.1 proxy_http_call) and the callback that answers them. Envoy sends
// the request on its own connection pool to a cluster it knows (unknown cluster: BadArgument), with the
// pseudo-headers :method, :path and :authority required (else BadArgument); it calls
// proxy_on_http_call_response on the context that made the call, with 0 headers when the call failed
// (reset, timeout, no host). Envoy cancels the calls of a context when it is deleted, so callouts are
// made from the root context (docs/platform.md "HTTP callouts", with the Envoy source).
import * as abi from "@gcoredev/proxy-wasm-sdk-as/assembly/imports";
import { hasRoot, root } from "./context";
import { enter, leave } from "./gc";
import { WasmResult, hostBytes } from "./host";

const HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
const out = memory.data(16);

/**
 * Serializes header pairs as the ABI wants them: count, then each key and value length (u32 LE), then
 * each key and value followed by a NUL (proxy-wasm-cpp-host exports.cc, getPairs / toMapPairs).
 */
export function serializeHeaders(pairs: Array<string>): ArrayBuffer {
  const n = pairs.length >> 1;
  const utf8 = new StaticArray<ArrayBuffer>(pairs.length);
  let size = 4 + n * 8;
  for (let i = 0; i < pairs.length; i++) {
    utf8[i] = String.UTF8.encode(pairs[i]);
    size += utf8[i].byteLength + 1;
  }
  const buf = new ArrayBuffer(size);
  const p = changetype<usize>(buf);
  store<u32>(p, n);
  let at = p + 4 + <usize>n * 8;
  for (let i = 0; i < pairs.length; i++) {
    const b = utf8[i];
    store<u32>(p + 4 + <usize>i * 4, b.byteLength);
    memory.copy(at, changetype<usize>(b), b.byteLength);
    at += b.byteLength;
    store<u8>(at, 0);
    at++;
  }
  return buf;
}

export class HttpCallResult {
  result: WasmResult = WasmResult.Ok;
  token: u32 = 0;
}
const callResult = new HttpCallResult();

/** Sends a request to `cluster`; `headers` are key, value, key, value... The token comes back in the callback. */
export function httpCall(cluster: string, headers: Array<string>, bodyPtr: usize, bodyLen: u32, timeoutMs: u32): HttpCallResult {
  const c = String.UTF8.encode(cluster);
  const h = serializeHeaders(headers);
  const noTrailers = serializeHeaders([]);
  store<u32>(out, 0);
  callResult.result = abi.proxy_http_call(
    changetype<usize>(c), c.byteLength, changetype<usize>(h), h.byteLength, bodyPtr, bodyLen,
    changetype<usize>(noTrailers), noTrailers.byteLength, timeoutMs, out,
  ) as WasmResult;
  callResult.token = load<u32>(out);
  return callResult;
}

/** A header of the response being delivered (only inside proxy_on_http_call_response); null when absent. */
export function httpCallResponseHeader(name: string): string | null {
  const k = String.UTF8.encode(name);
  store<u64>(out, 0);
  store<u64>(out, 0, 8);
  if (abi.proxy_get_header_map_value(HTTP_CALL_RESPONSE_HEADERS, changetype<usize>(k), k.byteLength, out, out + 8) != WasmResult.Ok) return null;
  hostBytes.release();
  hostBytes.ptr = load<usize>(out);
  hostBytes.len = load<u32>(out, 8);
  const v = hostBytes.toStringUtf8();
  hostBytes.release();
  return v;
}

export function proxy_on_http_call_response(contextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  enter();
  if (hasRoot(contextId)) root(contextId).onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
  leave();
}
