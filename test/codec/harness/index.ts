// A test-only Wasm entry that exposes the filter's codecs to Node tests (built with asc's ESM bindings,
// see test/codec/harness.ts). It lets interop tests feed frames captured from real Thrift and Dubbo
// peers through the same codec code the filter runs, and hand frames Meltemi encodes back to real peers.
import { ByteWriter } from "../../../filter/codec/bytes";
import { Codec, DecodeStatus, Direction, EncodeContext, Encoded, ErrorKind, Limits, Mutation, decodeErrorName, errorKindName } from "../../../filter/codec/codec";
import { DubboCodec } from "../../../filter/codec/dubbo/codec";
import { Metadata, MessageKind } from "../../../filter/codec/metadata";
import { FrameStream } from "../../../filter/codec/stream";
import { CODEC_NAMES, createCodec } from "../../../filter/codec/registry";

function kindName(k: MessageKind): string {
  switch (k) {
    case MessageKind.Request: return "request";
    case MessageKind.Oneway: return "oneway";
    case MessageKind.Response: return "response";
    case MessageKind.Error: return "error";
    default: return "heartbeat";
  }
}

function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

function limitsFrom(maxFrameBytes: u32, maxDepth: u32, maxEntries: u32, maxValueBytes: u32): Limits {
  const l = new Limits();
  if (maxFrameBytes > 0) l.maxFrameBytes = maxFrameBytes;
  if (maxDepth > 0) l.maxDepth = maxDepth;
  if (maxEntries > 0) l.maxMetadataEntries = maxEntries;
  if (maxValueBytes > 0) l.maxMetadataValueBytes = maxValueBytes;
  return l;
}

function codecFor(protocol: string, limits: Limits): Codec {
  const c = createCodec(protocol, limits);
  if (c === null) throw new Error("unknown protocol " + protocol);
  return c!;
}

function frameJson(md: Metadata): string {
  let s = "{\"kind\":" + quote(kindName(md.kind)) + ",\"requestId\":" + quote(md.requestId.toString()) +
    ",\"frameLength\":" + md.frameLength.toString() + ",\"twoWay\":" + (md.twoWay ? "true" : "false") + ",\"metadata\":{";
  for (let i = 0; i < md.count; i++) {
    if (i > 0) s += ",";
    s += quote(md.keyString(i)) + ":" + quote(md.valueString(i));
  }
  return s + "}}";
}

/**
 * Feeds `data` (a client's bytes, or with `answers` a server's) to a fresh codec in pieces cut at
 * `splits` (ascending offsets) and returns JSON:
 * {"frames":[...], "error": "" | "<name>: <detail>", "pending": <bytes left undecoded>}.
 */
export function decodeStream(protocol: string, data: Uint8Array, splits: Int32Array,
  maxFrameBytes: u32, maxDepth: u32, maxEntries: u32, maxValueBytes: u32, answers: bool = false): string {
  const codec = codecFor(protocol, limitsFrom(maxFrameBytes, maxDepth, maxEntries, maxValueBytes));
  // `answers`: the bytes a server sent (Codec.decoding; tRPC's frames do not say their direction).
  const stream = new FrameStream(answers ? Direction.Response : Direction.Request);
  const md = new Metadata(<i32>codec.limits.maxMetadataEntries);
  let frames = "";
  let error = "";
  let start = 0;
  for (let p = 0; p <= splits.length && error.length == 0; p++) {
    const end = p < splits.length ? splits[p] : data.length;
    if (end > start) stream.push(data.dataStart + <usize>start, <u32>(end - start));
    start = end;
    while (true) {
      const status = stream.next(codec, md);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) { error = decodeErrorName(codec.error) + ": " + codec.errorDetail; break; }
      if (frames.length > 0) frames += ",";
      frames += frameJson(md);
      stream.consume(md.frameLength);
    }
  }
  return "{\"frames\":[" + frames + "],\"error\":" + quote(error) + ",\"pending\":" + stream.buffered.toString() + "}";
}

function copyOut(w: ByteWriter): Uint8Array {
  const out = new Uint8Array(w.length);
  memory.copy(out.dataStart, w.ptr, w.length);
  w.free();
  return out;
}

function decodeOne(codec: Codec, request: Uint8Array, md: Metadata): void {
  const status = codec.decode(request.dataStart, <u32>request.length, md);
  if (status != DecodeStatus.Frame) throw new Error("request does not decode: " + decodeErrorName(codec.error) + " " + codec.errorDetail);
}

/** The error reply the codec writes for the (single) request frame in `request`. */
export function encodeError(protocol: string, request: Uint8Array, kind: i32, message: string): Uint8Array {
  const codec = codecFor(protocol, new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  codec.respond(<ErrorKind>kind, message, md, w);
  return copyOut(w);
}

/**
 * The request frame as Codec.encode writes it with `keys[i] = values[i]` set (the request as it is
 * when the codec leaves it unchanged); empty when the codec cannot carry the keys.
 */
export function encodeMutated(protocol: string, request: Uint8Array, keys: Array<string>, values: Array<string>): Uint8Array {
  const codec = codecFor(protocol, new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const m = new Mutation();
  for (let i = 0; i < keys.length; i++) m.set(keys[i], values[i]);
  const w = new ByteWriter();
  const ctx = new EncodeContext().set(Direction.Request, m, null);
  if (codec.encode(request.dataStart, md, ctx, w) == Encoded.Unchanged) {
    if (ctx.dropped) { w.free(); return new Uint8Array(0); }
    w.bytes(request.dataStart, md.frameLength);
  }
  return copyOut(w);
}

/** The codec's probe for the (single) request frame in `request`; empty when the protocol has none. */
export function probeFor(protocol: string, request: Uint8Array): Uint8Array {
  const codec = codecFor(protocol, new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  if (!codec.probe(md, null, w)) w.length = 0;
  return copyOut(w);
}

/** The reply to the heartbeat frame in `request` (Dubbo; other protocols have no heartbeats: empty). */
export function heartbeatReply(protocol: string, request: Uint8Array): Uint8Array {
  const codec = codecFor(protocol, new Limits());
  const md = new Metadata();
  decodeOne(codec, request, md);
  const w = new ByteWriter();
  if (codec instanceof DubboCodec) (codec as DubboCodec).encodeHeartbeatReply(md, w);
  return copyOut(w);
}

/**
 * The codec manifest (filter/codec/manifest.json, read by the controller): every codec of the
 * registry and what it can do, as the codecs themselves say it. scripts/codec-manifest.mjs writes it.
 */
export function codecManifest(): string {
  let s = "{\"codecs\":[";
  for (let i = 0; i < CODEC_NAMES.length; i++) {
    const c = codecFor(CODEC_NAMES[i], new Limits());
    const probe = new ByteWriter();
    const hasProbe = c.probe(new Metadata(), null, probe);
    probe.free();
    if (i > 0) s += ",";
    s += "{\"name\":" + quote(c.name);
    s += ",\"routingModes\":" + (c.nativeRouter.length > 0 ? "[\"perRequest\",\"perConnection\"]" : "[\"perConnection\"]");
    s += ",\"nativeRouter\":" + (c.nativeRouter.length > 0 ? quote(c.nativeRouter) : "null");
    s += ",\"routingKey\":" + (c.routingKey.length > 0 ? quote(c.routingKey) : "null");
    s += ",\"answersInOrder\":" + (c.answersInOrder ? "true" : "false");
    s += ",\"probe\":" + (hasProbe ? "true" : "false");
    s += ",\"errorReplies\":{\"field\":" + quote(c.errorCodeField);
    for (let k = 0; k <= <i32>ErrorKind.BadRequest; k++) s += "," + quote(errorKindName(<ErrorKind>k)) + ":" + c.errorCode(<ErrorKind>k).toString();
    s += "}}";
  }
  return s + "]}";
}
