// A test-only Wasm entry for what only the Thrift codec offers (the generic codec harness in
// test/codec/harness covers decode, encode, respond): the conversions between a client's
// transport and THeader that per-request routing through Envoy's thrift_proxy needs.
// Built by test/codec/thrift/harness.ts (asc ESM bindings) into build/thrift-harness.{wasm,js}.
import { ByteWriter } from "../../../../filter/codec/bytes";
import { DecodeStatus, Limits, Mutation, decodeErrorName } from "../../../../filter/codec/codec";
import { Metadata } from "../../../../filter/codec/metadata";
import { ThriftCodec } from "../../../../filter/codec/thrift/codec";

function decodeOne(codec: ThriftCodec, frame: Uint8Array, md: Metadata): void {
  md.reset();
  const status = codec.decode(frame.dataStart, <u32>frame.length, md);
  if (status != DecodeStatus.Frame) throw new Error("frame does not decode: " + decodeErrorName(codec.error) + " " + codec.errorDetail);
}

function mutationOf(keys: Array<string>, values: Array<string>): Mutation {
  const m = new Mutation();
  for (let i = 0; i < keys.length; i++) m.set(keys[i], values[i]);
  return m;
}

function copyOut(w: ByteWriter): Uint8Array {
  const out = new Uint8Array(w.length);
  memory.copy(out.dataStart, w.ptr, w.length);
  w.free();
  return out;
}

/**
 * The reply frame in `reply` re-encoded for the client that sent the request in `request`: one codec
 * decodes the request (recording the client's wire format in requestWire), then the reply. Empty
 * when the codec refuses.
 */
export function forClient(reply: Uint8Array, request: Uint8Array): Uint8Array {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  decodeOne(codec, reply, md);
  const w = new ByteWriter();
  if (!codec.encodeForClient(reply.dataStart, md, <u32>codec.requestWire, w)) { w.free(); return new Uint8Array(0); }
  return copyOut(w);
}

/** The request frame converted to THeader with `keys[i] = values[i]` set (even when there are none). */
export function asHeader(request: Uint8Array, keys: Array<string>, values: Array<string>): Uint8Array {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  if (!codec.encodeAsHeader(request.dataStart, md, mutationOf(keys, values), w)) { w.free(); return new Uint8Array(0); }
  return copyOut(w);
}

/** The probe (ThriftCodec.probe) the filter sends upstream in place of the rejected request in `request`. */
export function probe(request: Uint8Array): Uint8Array {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  if (!codec.probe(md, null, w)) { w.free(); return new Uint8Array(0); }
  return copyOut(w);
}

/** The request routed to `cluster` for thrift_proxy (ThriftCodec.encodeRouted) with `keys[i] = values[i]` as the routed mutation. */
export function routed(request: Uint8Array, cluster: string, keys: Array<string>, values: Array<string>): Uint8Array {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  if (!codec.encodeRouted(request.dataStart, md, mutationOf(keys, values), cluster, w)) { w.free(); return new Uint8Array(0); }
  return copyOut(w);
}
