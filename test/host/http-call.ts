// proxy_http_call for the Node host: the calls a module makes are recorded, and a test answers each
// one (or fails it) when it likes, which calls proxy_on_http_call_response on the context that made
// the call, as Envoy does (context.cc onHttpCallSuccess / onHttpCallFailure: a failure has 0 headers).
// During that callback the response headers are the header map HttpCallResponseHeaders (6), trailers
// 7, the body the buffer HttpCallResponseBody. The host has no clusters: those a call may name are
// given in LoadOptions.clusters; another name, or a request without :path, :method or :authority, is
// refused with BadArgument, as Envoy's Context::httpCall refuses them (source/extensions/common/wasm/context.cc).

/** One proxy_http_call. */
export interface HttpCall {
  token: number;
  contextId: number;
  cluster: string;
  headers: Array<[string, string]>;
  body: Buffer;
  trailers: Array<[string, string]>;
  timeoutMs: number;
  /** Set once respondHttpCall answered it. */
  answered: boolean;
}

/** A response: status and headers (":status" is added from `status`), body, trailers. */
export interface HttpCallAnswer {
  status: number;
  headers?: Array<[string, string]>;
  body?: string | Uint8Array;
  trailers?: Array<[string, string]>;
}

/** The response being delivered in proxy_on_http_call_response. */
export interface HttpCallResponse {
  headers: Array<[string, string]>;
  body: Buffer;
  trailers: Array<[string, string]>;
}

/** Decodes the ABI's serialized pairs: count, (key length, value length)*, (key NUL value NUL)*. */
export function decodePairs(buf: Buffer): Array<[string, string]> | null {
  if (buf.length === 0) return [];
  if (buf.length < 4) return null;
  const n = buf.readUInt32LE(0);
  if (buf.length < 4 + n * 8) return null;
  const pairs: Array<[string, string]> = [];
  let at = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const kl = buf.readUInt32LE(4 + i * 8);
    const vl = buf.readUInt32LE(8 + i * 8);
    if (at + kl + 1 + vl + 1 > buf.length) return null;
    const k = buf.subarray(at, at + kl).toString("utf8");
    at += kl + 1;
    const v = buf.subarray(at, at + vl).toString("utf8");
    at += vl + 1;
    pairs.push([k, v]);
  }
  return pairs;
}

export function encodePairs(pairs: Array<[string, string]>): Buffer {
  const parts = pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const);
  const head = Buffer.alloc(4 + pairs.length * 8);
  head.writeUInt32LE(pairs.length, 0);
  parts.forEach(([k, v], i) => {
    head.writeUInt32LE(k.length, 4 + i * 8);
    head.writeUInt32LE(v.length, 8 + i * 8);
  });
  const nul = Buffer.alloc(1);
  return Buffer.concat([head, ...parts.flatMap(([k, v]) => [k, nul, v, nul])]);
}
