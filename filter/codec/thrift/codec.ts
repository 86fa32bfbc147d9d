// The Thrift codec: binary (strict and non-strict) and compact protocols over the unframed, framed and
// THeader transports, told apart frame by frame from their first bytes (as Envoy's thrift_proxy auto
// transport does, auto_transport_impl.cc):
//
//   80 01 ..                unframed strict binary     82 ..                unframed compact
//   LEN(>0) 0F FF ..        THeader                     LEN(>0) 80 01 ..     framed strict binary
//   LEN(>0) 82 ..           framed compact              LEN(>0) 00 ..        framed non-strict binary
//   NAMELEN(>0) <name> ..   unframed non-strict binary (a method name never starts with a zero byte,
//                           the high byte of a non-strict name length inside a frame always is)
//
// Every frame's first bytes name its wire format unambiguously, so nothing is pinned per connection:
// one codec instance can read a client's framed requests and the THeader replies Envoy's thrift_proxy
// sends after Meltemi converted those requests (see encodeAsHeader / encodeForClient).
import { ByteWriter, bytesEqual, utf8Of } from "../bytes";
import { Codec, DecodeError, DecodeStatus, Direction, EncodeContext, Encoded, ErrorKind, Limits, Mutation, withRoutingKey } from "../codec";
import { KEY_METHOD, KEY_SERVICE, Metadata, MessageKind } from "../metadata";
import { appExceptionTypeOf, writeAppException } from "./app_exception";
import { HeaderEntries, HeaderInfo, beginHeaderFrame, endHeaderData, endHeaderFrame, readHeaderData, writeHeaderString } from "./header";
import { MessageHeader, protocolAt, readMessageHeader, writeMessageHeader } from "./message";
import { ThriftReader } from "./reader";
import { bodyFieldsEnd, skipStruct } from "./skip";
import {
  HEADER_FIXED_BYTES, HEADER_INFO_KEYVALUE, HEADER_MAGIC, HEADER_MAX_FRAME, HEADER_PROTOCOL_BINARY,
  HEADER_PROTOCOL_COMPACT, HEADER_PROTOCOL_JSON, MessageType, Protocol, TType, Transport, protocolOf, transportOf, wireFlags,
} from "./wire";

/** The method of Meltemi's probe call: '-' cannot appear in a Thrift IDL identifier. */
export const PROBE_METHOD = utf8Of("meltemi-probe");
/** Where a probe's or a routed request's name is put together; one per VM (not freed with a codec). */
const nameScratch = new ByteWriter();

/** An empty mutation (encodeRouted of a frame that cannot carry headers ignores it). */
const EMPTY_MUTATION = new Mutation();

/** The UTF-8 bytes of the last routing prefix (a cluster name), kept: a route's requests share it. */
let prefixString: string | null = null;
let prefixUtf8Bytes: ArrayBuffer = new ArrayBuffer(0);

/** The UTF-8 bytes of `s`, encoded again only when `s` is not the string of the last call. */
function prefixUtf8(s: string): ArrayBuffer {
  // Identity, not content: the cluster strings of the configuration are the same objects per request;
  // holding `s` keeps it alive, so its address cannot stand for another string.
  if (changetype<usize>(s) != changetype<usize>(prefixString)) {
    prefixUtf8Bytes = String.UTF8.encode(s, false);
    prefixString = s;
  }
  return prefixUtf8Bytes;
}

/** Where the parts of one frame are (offsets from the frame start). */
@unmanaged
class FrameLayout {
  transport: Transport = Transport.Unframed;
  protocol: Protocol = Protocol.Binary;
  frameLength: u32 = 0;
  /** The message (message header + struct) is [payloadStart, frameLength). */
  payloadStart: u32 = 0;
  /** The message's struct starts here. */
  bodyStart: u32 = 0;
  message: MessageHeader = new MessageHeader();
  /** THeader fields, valid when transport is Header. */
  header: HeaderInfo = new HeaderInfo();
}

// The working state of decodes and encodes: unmanaged (see reader.ts), so allocated once per VM and
// shared by every codec instance (a call never outlives itself; the VM runs one callback at a time).
const reader = new ThriftReader();
const decodeLayout = new FrameLayout();
const encodeLayout = new FrameLayout();
const entries = new HeaderEntries();
const identifyHeader = new MessageHeader();
const identifyInfo = new HeaderInfo();

export class ThriftCodec extends Codec {
  /** Metadata.codecFlags of the first call/oneway this codec decoded (-1 before): the client's wire format. */
  requestWire: i32 = -1;

  constructor(limits: Limits) { super(limits); }

  get name(): string { return "thrift"; }

  get nativeRouter(): string { return "envoy.filters.network.thrift_proxy"; }
  get routingKey(): string { return "message name prefix <cluster>: (thrift_proxy service_name route, strip_service_name)"; }
  get errorCodeField(): string { return "TApplicationException type"; }
  errorCode(kind: ErrorKind): i32 { return <i32>appExceptionTypeOf(kind); }

  /** A Thrift processor answers one call at a time, in order (oneway.ts learns oneway methods from it). */
  get answersInOrder(): bool { return true; }

  /** Only a THeader call has headers: keys added to a framed or unframed call would convert it. */
  addsKeysInPlace(md: Metadata): bool { return transportOf(md.codecFlags) == Transport.Header; }

  /**
   * Requests: routed per request by the "<cluster>:" name prefix (encodeRouted), else the mutation as
   * THeader headers (encodeMutated). Answers: the response mutation (THeader clients only), and a
   * THeader answer to a client whose requests were converted goes back to that client's wire format.
   * Unchanged when none of that applies.
   */
  encode(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded {
    if (ctx.direction == Direction.Request) {
      const cluster = ctx.cluster;
      if (cluster !== null) {
        // Only a THeader frame carries the routing key as a header (encodeRouted): no Mutation for the others.
        const routed = transportOf(md.codecFlags) == Transport.Header ? withRoutingKey(ctx.mutation, cluster) : EMPTY_MUTATION;
        if (this.encodeRouted(ptr, md, routed, cluster, out)) return Encoded.Written;
        ctx.dropped = true;
        return Encoded.Unchanged;
      }
      if (ctx.mutation === null) return Encoded.Unchanged;
      if (this.encodeMutated(ptr, md, ctx.mutation!, out)) return Encoded.Written;
      ctx.dropped = true;
      return Encoded.Unchanged;
    }
    if (ctx.mutation !== null) {
      if (this.encodeResponseMutated(ptr, md, ctx.mutation!, out)) return Encoded.Written;
      ctx.dropped = true;
    }
    return this.encodeResponseForClient(ptr, md, out) ? Encoded.Written : Encoded.Unchanged;
  }

  decode(ptr: usize, len: u32, md: Metadata): DecodeStatus {
    const l = decodeLayout;
    const status = this.locate(ptr, len, 0, l);
    if (status != DecodeStatus.Frame) return status;

    const type = l.message.type;
    md.kind = type == MessageType.Call ? MessageKind.Request
      : type == MessageType.Oneway ? MessageKind.Oneway
      : type == MessageType.Reply ? MessageKind.Response : MessageKind.Error;
    md.requestId = <i64>l.message.seqid;
    md.frameLength = l.frameLength;
    md.twoWay = type == MessageType.Call;
    md.codecFlags = wireFlags(l.transport, l.protocol);

    if (l.transport == Transport.Header && !this.addHeaders(ptr, l.header, md)) return DecodeStatus.Invalid;
    if (!this.addName(l.message, md) || <u32>md.count > this.limits.maxMetadataEntries) {
      return this.fail(DecodeError.TooManyMetadataEntries, "more metadata entries than the limit");
    }

    if (this.requestWire < 0 && (type == MessageType.Call || type == MessageType.Oneway)) this.requestWire = <i32>md.codecFlags;
    return DecodeStatus.Frame;
  }

  /**
   * Empty mutation: the frame's bytes unchanged. Otherwise the frame as THeader carrying the mutated
   * headers (a THeader frame keeps its headers, flags and sequence number; other frames are converted,
   * see encodeAsHeader). Thrift has no other place for key/values.
   */
  encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    if (mutation.isEmpty) {
      out.bytes(ptr, md.frameLength);
      return true;
    }
    return this.encodeAsHeader(ptr, md, mutation, out);
  }

  /**
   * The frame as a THeader frame, in the same protocol (non-strict binary becomes strict: Envoy's
   * thrift_proxy reads only strict binary inside THeader), with the frame's headers (if any) and
   * `mutation` applied. This is how Envoy's thrift_proxy can route on a header Meltemi writes
   * (RouteMatch.headers, RouteAction.cluster_header). thrift_proxy detects the transport once per
   * connection, so once one request of a connection is converted, every request must be; and it
   * replies in THeader: encodeForClient turns those replies back into what the client speaks.
   * False (nothing written) when Envoy could not read the result: a header string over 32767 bytes,
   * header data over 64 KiB.
   */
  encodeAsHeader(ptr: usize, md: Metadata, mutation: Mutation | null, out: ByteWriter): bool {
    const p = protocolOf(md.codecFlags);
    return this.reencode(ptr, md, Transport.Header, p == Protocol.LaxBinary ? Protocol.Binary : p, mutation, out);
  }

  /**
   * perRequest mode behind Envoy's thrift_proxy: the request with "<cluster>:" before its message name,
   * in its own transport and protocol. thrift_proxy matches the prefix as a `service_name` route and
   * `strip_service_name` removes it up to the first ':' before forwarding, so the upstream sees the
   * name the client sent, multiplexed or not (controller/translate/envoy/routing_key.ts). A THeader
   * frame also gets `routed` (the route's mutation and ROUTING_KEY) as headers; any other frame keeps
   * its transport, because thrift_proxy detects the transport once per connection, so the route's
   * header mutations cannot be carried and are left out.
   */
  encodeRouted(ptr: usize, md: Metadata, routed: Mutation, cluster: string, out: ByteWriter): bool {
    const transport = transportOf(md.codecFlags);
    return this.reencode(ptr, md, transport, protocolOf(md.codecFlags), transport == Transport.Header ? routed : null, out, cluster);
  }

  /**
   * A reply (or any frame) in the wire format given by `clientFlags` (the Metadata.codecFlags of the
   * client's request, or requestWire): THeader headers are dropped for a framed or unframed client,
   * and the message header is rewritten between strict and non-strict binary. False (nothing written)
   * between binary and compact, which would need the whole struct transcoded: Envoy keeps the
   * client's protocol inside THeader, so that does not happen on Meltemi's response path.
   */
  encodeForClient(ptr: usize, md: Metadata, clientFlags: u32, out: ByteWriter): bool {
    return this.reencode(ptr, md, transportOf(clientFlags), protocolOf(clientFlags), null, out);
  }

  /**
   * A TApplicationException (message type EXCEPTION, the request's method name without a service
   * prefix, as TMultiplexedProcessor replies, and its seqid) in the request's transport and protocol.
   * See appExceptionTypeOf for the exception type of each ErrorKind.
   */
  respond(kind: ErrorKind, message: string, request: Metadata, out: ByteWriter): void {
    const i = request.indexOf(KEY_METHOD);
    const namePtr: usize = i < 0 ? 0 : request.valuePtrAt(i);
    const nameLen: u32 = i < 0 ? 0 : request.valueLenAt(i);
    this.writeMessage(request, namePtr, nameLen, MessageType.Exception, out, message, kind);
  }

  /**
   * A message in md's transport and protocol with md's seqid: a TApplicationException for `message`
   * when there is one, else an empty argument struct.
   */
  private writeMessage(md: Metadata, namePtr: usize, nameLen: u32, type: MessageType, out: ByteWriter,
    message: string | null, kind: ErrorKind): void {
    const transport = transportOf(md.codecFlags);
    const protocol = protocolOf(md.codecFlags);
    const seqid = <i32>md.requestId;
    let start = out.length;
    if (transport == Transport.Header) {
      start = beginHeaderFrame(out, 0, seqid, headerProtocolId(protocol));
      endHeaderData(out, start);
    } else if (transport == Transport.Framed) {
      out.u32(0);
    }
    writeMessageHeader(out, protocol, namePtr, nameLen, type, seqid);
    if (message !== null) writeAppException(out, protocol, message, appExceptionTypeOf(kind));
    else out.u8(TType.STOP); // no arguments
    if (transport == Transport.Header) endHeaderFrame(out, start);
    else if (transport == Transport.Framed) out.patchU32(start, out.length - start - 4);
  }

  /**
   * A call of PROBE_METHOD (a name no IDL can declare), no arguments, with the request's seqid, in its
   * transport and protocol, keeping a multiplexed request's "Service:" prefix: an unknown service makes
   * TMultiplexedProcessor drop the connection, while every processor answers an unknown method with a
   * TApplicationException UNKNOWN_METHOD of the same seqid (lib/cpp TDispatchProcessor, Java
   * TBaseProcessor, generated node code). Behind Envoy's thrift_proxy it must be routed (`cluster`,
   * "<cluster>:meltemi-probe" as encodeRouted writes names): thrift_proxy's own "no route" reply comes
   * with end_stream and closes the client connection (Envoy 1.37).
   */
  probe(request: Metadata, cluster: string | null, out: ByteWriter): bool {
    this.writeProbe(request, cluster, out);
    return true;
  }

  /**
   * A frame decode refused is answerable when its message header can be read from the bytes at hand
   * and says CALL: the seqid and name are what a client needs to match a TApplicationException to its
   * call; for THeader, once its header data reads (binary or compact inside). A frame over the size
   * limit is identified from its first bytes.
   */
  identify(ptr: usize, len: u32, md: Metadata): bool {
    if (len < 2) return false;
    const b0 = <u32>load<u8>(ptr);
    let transport = Transport.Unframed;
    let protocol = Protocol.Binary;
    let at: u32 = 0;
    if (b0 == 0x80 || b0 == 0x82) {
      protocol = protocolAt(b0);
    } else if ((b0 & 0x80) != 0 || len < 6) {
      return false;
    } else {
      const b4 = <u32>load<u8>(ptr + 4);
      if (((b4 << 8) | <u32>load<u8>(ptr + 5)) == HEADER_MAGIC) {
        // THeader: the message follows the header data, when that can be read from the bytes at hand.
        const h = identifyInfo;
        const r = reader.start(ptr, len, u32.MAX_VALUE);
        readHeaderData(r, len, h);
        if (!r.ok) return false;
        if (h.protocolId == HEADER_PROTOCOL_COMPACT) protocol = Protocol.Compact;
        else if (h.protocolId == HEADER_PROTOCOL_BINARY) protocol = Protocol.Binary;
        else return false;
        transport = Transport.Header;
        at = h.payloadStart;
        if (at >= len) return false;
      } else if (b4 == 0x80 || b4 == 0x82 || b4 == 0) {
        transport = Transport.Framed;
        protocol = protocolAt(b4);
        at = 4;
      } else {
        protocol = Protocol.LaxBinary;
      }
    }
    const m = identifyHeader;
    const r = reader.start(ptr + at, len - at, u32.MAX_VALUE);
    readMessageHeader(r, protocol, this.limits.maxMetadataValueBytes, m);
    if (!r.ok || m.type != MessageType.Call) return false;
    md.reset();
    md.kind = MessageKind.Request;
    md.twoWay = true;
    md.requestId = <i64>m.seqid;
    md.codecFlags = wireFlags(transport, protocol);
    return this.addName(m, md);
  }

  /**
   * Keys on a reply travel only as THeader headers, and only to a client that speaks THeader: a framed
   * or unframed client would not read a THeader frame, and its own wire has no place for them.
   */
  private encodeResponseMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    if (this.requestWire < 0 || transportOf(<u32>this.requestWire) != Transport.Header) return false;
    if (transportOf(md.codecFlags) != Transport.Header) return false;
    return this.encodeMutated(ptr, md, mutation, out);
  }

  /** A THeader reply to a client that does not speak THeader (its requests were converted): back to its wire. */
  private encodeResponseForClient(ptr: usize, md: Metadata, out: ByteWriter): bool {
    if (this.requestWire < 0 || transportOf(md.codecFlags) != Transport.Header) return false;
    const client = <u32>this.requestWire;
    if (transportOf(client) == Transport.Header) return false;
    return this.encodeForClient(ptr, md, client, out);
  }

  private writeProbe(md: Metadata, cluster: string | null, out: ByteWriter): void {
    const name = nameScratch.clear();
    if (cluster !== null) {
      name.utf8(cluster);
      name.u8(0x3a);
    }
    const service = md.indexOf(KEY_SERVICE);
    if (service >= 0) {
      name.bytes(md.valuePtrAt(service), md.valueLenAt(service));
      name.u8(0x3a);
    }
    name.bytes(changetype<usize>(PROBE_METHOD), <u32>PROBE_METHOD.byteLength);
    this.writeMessage(md, name.ptr, name.length, MessageType.Call, out, null, ErrorKind.BadRequest);
  }

  /**
   * Finds the frame at [ptr, ptr+len): its transport, protocol, length and message header. With
   * `knownLength` (> 0) the frame was decoded before and an unframed message is not walked again.
   */
  private locate(ptr: usize, len: u32, knownLength: u32, l: FrameLayout): DecodeStatus {
    if (len < 2) return DecodeStatus.NeedMore;
    const b0 = <u32>load<u8>(ptr);
    if (b0 == 0x80 || b0 == 0x82) {
      l.transport = Transport.Unframed;
      l.protocol = protocolAt(b0);
    } else if ((b0 & 0x80) != 0) {
      return this.fail(DecodeError.Malformed, "not a Thrift message (bad first byte)");
    } else {
      if (len < 4) return DecodeStatus.NeedMore;
      // A frame length, or the method name length of a non-strict unframed message: too long either way.
      const size = bswap<u32>(load<u32>(ptr));
      if (<u64>size + 4 > <u64>this.limits.maxFrameBytes) return this.fail(DecodeError.FrameTooLarge, "frame length over the limit");
      if (len < 6) return DecodeStatus.NeedMore;
      const b4 = <u32>load<u8>(ptr + 4);
      const word = (b4 << 8) | <u32>load<u8>(ptr + 5);
      if (word == HEADER_MAGIC) {
        l.transport = Transport.Header;
      } else if (b4 == 0x80 || b4 == 0x82 || b4 == 0) {
        l.transport = Transport.Framed;
        l.protocol = protocolAt(b4);
      } else {
        l.transport = Transport.Unframed;
        l.protocol = Protocol.LaxBinary;
      }
    }
    if (l.transport == Transport.Unframed) return this.locateUnframed(ptr, len, knownLength, l);
    return this.locateFramed(ptr, len, l);
  }

  private locateUnframed(ptr: usize, len: u32, knownLength: u32, l: FrameLayout): DecodeStatus {
    const limit = this.limits.maxFrameBytes;
    const r = reader.start(ptr, knownLength > 0 ? knownLength : (len < limit ? len : limit), limit);
    readMessageHeader(r, l.protocol, this.limits.maxMetadataValueBytes, l.message);
    let walked = false;
    if (r.ok && knownLength == 0) {
      // The body's fields walked whole on an earlier read of this frame are not walked again.
      if (this.resumeAt > r.pos && this.resumeAt < len) r.pos = this.resumeAt;
      skipStruct(r, l.protocol, 1, this.limits.maxDepth);
      walked = true;
    }
    if (r.short) {
      if (walked) this.resumeAt = bodyFieldsEnd;
      return len >= limit ? this.fail(DecodeError.FrameTooLarge, "unframed message longer than the frame limit") : DecodeStatus.NeedMore;
    }
    if (!r.ok) return this.fail(r.error, r.detail);
    l.frameLength = knownLength > 0 ? knownLength : r.pos;
    l.payloadStart = 0;
    l.bodyStart = l.message.bodyOffset;
    return DecodeStatus.Frame;
  }

  private locateFramed(ptr: usize, len: u32, l: FrameLayout): DecodeStatus {
    const size = bswap<u32>(load<u32>(ptr));
    const isHeader = l.transport == Transport.Header;
    if (isHeader && size > HEADER_MAX_FRAME) return this.fail(DecodeError.Malformed, "THeader frame length over 0x3FFFFFFF");
    // A THeader frame holds at least its 10 fixed bytes and 4 bytes of header data (Envoy's minimum too).
    const minSize: u32 = isHeader ? 14 : 1;
    if (size < minSize) return this.fail(DecodeError.Malformed, "frame too short");
    l.frameLength = size + 4;
    if (len < l.frameLength) return DecodeStatus.NeedMore;

    l.payloadStart = 4;
    if (isHeader) {
      const r = reader.start(ptr, l.frameLength, u32.MAX_VALUE);
      readHeaderData(r, l.frameLength, l.header);
      if (!r.ok) return this.fail(r.short ? DecodeError.Malformed : r.error, r.short ? "THeader header truncated" : r.detail);
      const id = l.header.protocolId;
      if (id == HEADER_PROTOCOL_COMPACT) l.protocol = Protocol.Compact;
      else if (id == HEADER_PROTOCOL_BINARY) l.protocol = l.header.payloadStart < l.frameLength ? protocolAt(<u32>load<u8>(ptr + l.header.payloadStart)) : Protocol.Binary;
      else if (id == HEADER_PROTOCOL_JSON) return this.fail(DecodeError.Unsupported, "THeader with the JSON protocol is not supported");
      else return this.fail(DecodeError.Malformed, "unknown THeader protocol id");
      if (l.protocol == Protocol.Compact && id != HEADER_PROTOCOL_COMPACT) return this.fail(DecodeError.Malformed, "compact message under a binary THeader");
      l.payloadStart = l.header.payloadStart;
    }
    const r = reader.start(ptr + l.payloadStart, l.frameLength - l.payloadStart, u32.MAX_VALUE);
    readMessageHeader(r, l.protocol, this.limits.maxMetadataValueBytes, l.message);
    if (r.short) return this.fail(DecodeError.Malformed, "message header runs past the frame");
    if (!r.ok) return this.fail(r.error, r.detail);
    l.bodyStart = l.payloadStart + l.message.bodyOffset;
    return DecodeStatus.Frame;
  }

  /** THeader key/values as metadata, spans into the frame. `method` and `service` come from the message only. */
  private addHeaders(ptr: usize, info: HeaderInfo, md: Metadata): bool {
    const e = entries.start(ptr, info);
    const maxEntries = this.limits.maxMetadataEntries;
    const maxValue = this.limits.maxMetadataValueBytes;
    while (e.next()) {
      if (e.announced > maxEntries) { this.fail(DecodeError.TooManyMetadataEntries, "more THeader headers than the metadata entry limit"); return false; }
      if (e.keyLen > maxValue || e.valueLen > maxValue) { this.fail(DecodeError.MetadataValueTooLarge, "THeader header longer than the metadata value limit"); return false; }
      if (bytesEqual(e.keyPtr, e.keyLen, KEY_METHOD) || bytesEqual(e.keyPtr, e.keyLen, KEY_SERVICE)) continue;
      if (!md.add(e.keyPtr, e.keyLen, e.valuePtr, e.valueLen)) { this.fail(DecodeError.TooManyMetadataEntries, "more metadata entries than the limit"); return false; }
    }
    if (e.error != DecodeError.None) { this.fail(e.error, e.detail); return false; }
    return true;
  }

  /** `method`, and `service` for a multiplexed name "Service:method" (TMultiplexedProtocol's separator). */
  private addName(m: MessageHeader, md: Metadata): bool {
    let colon: i32 = -1;
    for (let i: u32 = 0; i < m.nameLen; i++) {
      if (load<u8>(m.namePtr + i) == 0x3a) { colon = <i32>i; break; }
    }
    if (colon < 0) return md.addKey(KEY_METHOD, m.namePtr, m.nameLen);
    return md.addKey(KEY_SERVICE, m.namePtr, <u32>colon) &&
      md.addKey(KEY_METHOD, m.namePtr + <usize>colon + 1, m.nameLen - <u32>colon - 1);
  }

  /** Writes the decoded frame at `ptr` in another transport/protocol (see encodeAsHeader, encodeForClient). */
  private reencode(ptr: usize, md: Metadata, transport: Transport, protocol: Protocol, mutation: Mutation | null,
    out: ByteWriter, namePrefix: string | null = null): bool {
    if (<u32>transport > <u32>Transport.Header || <u32>protocol > <u32>Protocol.Compact) return false;
    const l = encodeLayout;
    if (this.locate(ptr, md.frameLength, md.frameLength, l) != DecodeStatus.Frame) return false;
    if ((protocol == Protocol.Compact) != (l.protocol == Protocol.Compact)) return false;
    let name: ByteWriter | null = null;
    if (namePrefix !== null) {
      name = nameScratch.clear();
      name.bytes(changetype<usize>(prefixUtf8(namePrefix)), <u32>prefixUtf8Bytes.byteLength);
      name.u8(0x3a);
      name.bytes(l.message.namePtr, l.message.nameLen);
    }
    const namePtr = name !== null ? name.ptr : l.message.namePtr;
    const nameLen = name !== null ? name.length : l.message.nameLen;
    if (transport == Transport.Unframed && protocol == Protocol.LaxBinary && !laxUnframedReadable(namePtr, nameLen)) return false;
    const noMutation = mutation === null || mutation.isEmpty;
    if (transport == l.transport && protocol == l.protocol && noMutation && name === null) {
      out.bytes(ptr, l.frameLength);
      return true;
    }
    // An unframed reader finds the end of a message by walking its struct: a framed message's struct
    // (never walked on decode) must end exactly where its frame does.
    if (transport == Transport.Unframed && l.transport != Transport.Unframed && !this.structFills(ptr, l)) return false;
    const start = out.length;
    if (transport == Transport.Header) {
      const fromHeader = l.transport == Transport.Header;
      const at = beginHeaderFrame(out, fromHeader ? l.header.flags : 0,
        fromHeader ? l.header.seqid : l.message.seqid, headerProtocolId(protocol));
      if (!this.writeHeaders(ptr, l, mutation, out) || !endHeaderData(out, at)) { out.length = start; return false; }
      writePayload(ptr, l, protocol, name, out);
      endHeaderFrame(out, at);
      if (out.length - at - 4 > HEADER_MAX_FRAME) { out.length = start; return false; }
    } else if (transport == Transport.Framed) {
      out.u32(0);
      writePayload(ptr, l, protocol, name, out);
      out.patchU32(start, out.length - start - 4);
    } else {
      writePayload(ptr, l, protocol, name, out);
    }
    return true;
  }

  private structFills(ptr: usize, l: FrameLayout): bool {
    const r = reader.start(ptr + l.bodyStart, l.frameLength - l.bodyStart, u32.MAX_VALUE);
    skipStruct(r, l.protocol, 1, this.limits.maxDepth);
    return r.ok && r.pos == l.frameLength - l.bodyStart;
  }

  /**
   * One key/value block: the frame's own headers in wire order (values replaced where the mutation
   * sets the key), then the mutation's new keys. Info blocks this codec does not know are kept after it.
   */
  private writeHeaders(ptr: usize, l: FrameLayout, mutation: Mutation | null, out: ByteWriter): bool {
    const n = mutation === null ? 0 : mutation.keys.length;
    // Mutations are small and off the per-request decode path: UTF-8 copies are fine here.
    // StaticArrays: fixed length, and one generic instantiation less each (Array<bool>, Array<ArrayBuffer>).
    const keys = new StaticArray<ArrayBuffer>(n);
    const values = new StaticArray<ArrayBuffer>(n);
    const present = new StaticArray<bool>(n);
    for (let j = 0; j < n; j++) {
      keys[j] = String.UTF8.encode(mutation!.keys[j], false);
      values[j] = String.UTF8.encode(mutation!.values[j], false);
    }
    const fromHeader = l.transport == Transport.Header;
    let existing: u32 = 0;
    let tailStart = l.header.payloadStart;
    if (fromHeader) {
      const e = entries.start(ptr, l.header);
      while (e.next()) {
        existing++;
        const j = indexOfKey(keys, e.keyPtr, e.keyLen);
        if (j >= 0) present[j] = true;
      }
      if (e.error != DecodeError.None) return false;
      tailStart = e.tailStart;
    }
    let added: u32 = 0;
    for (let j = 0; j < n; j++) if (!present[j]) added++;
    if (existing + added > 0) {
      out.uvarint(HEADER_INFO_KEYVALUE);
      out.uvarint(existing + added);
      if (fromHeader) {
        const e = entries.start(ptr, l.header);
        while (e.next()) {
          const j = indexOfKey(keys, e.keyPtr, e.keyLen);
          const valuePtr: usize = j < 0 ? e.valuePtr : changetype<usize>(values[j]);
          const valueLen: u32 = j < 0 ? e.valueLen : <u32>values[j].byteLength;
          if (!writeHeaderString(out, e.keyPtr, e.keyLen) || !writeHeaderString(out, valuePtr, valueLen)) return false;
        }
      }
      for (let j = 0; j < n; j++) {
        if (present[j]) continue;
        if (!writeHeaderString(out, changetype<usize>(keys[j]), <u32>keys[j].byteLength) ||
          !writeHeaderString(out, changetype<usize>(values[j]), <u32>values[j].byteLength)) return false;
      }
    }
    if (fromHeader && tailStart < l.header.payloadStart) out.bytes(ptr + tailStart, l.header.payloadStart - tailStart);
    return true;
  }
}

/**
 * An unframed non-strict message is told from the other formats by its first name byte (see the top
 * of this file); names starting with 0x00, 0x80, 0x82 or 0x0F 0xFF would be read as something else.
 */
function laxUnframedReadable(namePtr: usize, nameLen: u32): bool {
  if (nameLen == 0) return true;
  const first = <u32>load<u8>(namePtr);
  if (first == 0 || first == 0x80 || first == 0x82) return false;
  return !(first == 0x0f && nameLen > 1 && <u32>load<u8>(namePtr + 1) == 0xff);
}

function headerProtocolId(p: Protocol): u32 {
  return p == Protocol.Compact ? HEADER_PROTOCOL_COMPACT : HEADER_PROTOCOL_BINARY;
}

function indexOfKey(keys: StaticArray<ArrayBuffer>, ptr: usize, len: u32): i32 {
  for (let j = 0; j < keys.length; j++) if (bytesEqual(ptr, len, keys[j])) return j;
  return -1;
}

/**
 * The message in `protocol`: its bytes as they are, or a new message header (with `name` if given)
 * before the same struct.
 */
function writePayload(ptr: usize, l: FrameLayout, protocol: Protocol, name: ByteWriter | null, out: ByteWriter): void {
  if (protocol == l.protocol && name === null) {
    out.bytes(ptr + l.payloadStart, l.frameLength - l.payloadStart);
    return;
  }
  const m = l.message;
  if (name !== null) writeMessageHeader(out, protocol, name.ptr, name.length, m.type, m.seqid);
  else writeMessageHeader(out, protocol, m.namePtr, m.nameLen, m.type, m.seqid);
  out.bytes(ptr + l.bodyStart, l.frameLength - l.bodyStart);
}
