// The Dubbo codec: Dubbo 2 protocol frames with hessian2 bodies (see protocol.ts for the header).
//
// Request body (DubboCodec.encodeRequestData): dubbo version, service path, service version, method,
// parameter types, one value per parameter, attachments map. Metadata: `interface` (the path),
// `version`, `method` from the body, then every string attachment (`group` among them; the body's
// values win over attachments of the same name). Arguments are skipped, never decoded.
//
// Response body (DubboCodec.encodeResponseData), for status OK: a flag (ResponseFlag), then the value
// or exception, then attachments for flags 3-5. Other statuses carry an error message string.
// Events (the event bit) are heartbeats; Dubbo sends them with a hessian2 null body.
//
// codecFlags holds the offset of the attachments map in the frame (0: the frame has none), which
// encodeMutated uses.
//
// Lazily (Codec.lazy: nothing the filter does with the frame needs it whole), decode stops after the
// method of a request and after the flag of a response: parameter types, arguments and attachments are
// decoded when a lookup first asks for a key other than the body's own (LaterPart), which is where
// most of a request's decode time goes (the arguments are walked to reach the attachments). A frame
// nobody asks about is then forwarded with its header and body fields checked, the rest unread, as
// dubbo_proxy does (it reads attachments only for a route that matches one).
import { ByteWriter, bytesEqual, sameMemory, utf8Of } from "../bytes";
import { Codec, DecodeError, DecodeStatus, Direction, EncodeContext, Encoded, ErrorKind, Limits, Mutation, ROUTING_KEY, withRoutingKey } from "../codec";
import { KEY_INTERFACE, KEY_METHOD, KEY_VERSION, Metadata, MessageKind } from "../metadata";
import { countParameters } from "./descriptor";
import { Hessian2Reader, StringKind, Tag } from "./hessian2";
import { stringDataEquals, writeNull, writeString } from "./hessian2_writer";
import {
  FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HEADER_SIZE, MAGIC, MAGIC_HIGH, ResponseFlag, SERIALIZATION_HESSIAN2,
  SERIALIZATION_MASK, Status, hasAttachments, isException, withAttachments,
} from "./protocol";

/** Largest body the header's signed 32-bit length can announce. */
const MAX_BODY: u32 = 0x7fffffff;
/** The attachment a provider takes the service path from (Dubbo CommonConstants.PATH_KEY). */
const KEY_PATH = utf8Of("path");
/** deferRest's mark for a request's rest (a response's is its flag, >= 0). */
const REQUEST_REST: i32 = -1;
/** encodeMutated tracks applied keys in a 64-bit mask. */
const MAX_MUTATION_KEYS: i32 = 64;

/**
 * The response status of Meltemi's error reply per ErrorKind. A Dubbo consumer turns any status but
 * OK / timeouts / serialization error into RemotingException(message), surfaced to the caller as
 * RpcException(NETWORK_EXCEPTION, "... cause: ...<message>") (DefaultFuture.doReceived,
 * AbstractInvoker.waitForResultIfSync, Dubbo 3.3.6). Statuses are the ones Dubbo itself uses for the
 * same situation, all accepted by Envoy's dubbo_proxy (isValidResponseStatus).
 */
export function statusFor(kind: ErrorKind): u32 {
  switch (kind) {
    // What a Dubbo provider answers when its thread pool rejects work (AllChannelHandler).
    case ErrorKind.OverLimit: return Status.SERVER_THREADPOOL_EXHAUSTED_ERROR;
    // What a provider answers when a filter (auth, limits) throws before the service runs.
    case ErrorKind.Unauthorized: return Status.SERVICE_ERROR;
    case ErrorKind.FaultAbort: return Status.SERVICE_ERROR;
    // What Envoy's dubbo_proxy router answers when no route matches.
    case ErrorKind.NoRoute: return Status.SERVICE_NOT_FOUND;
    // What a provider answers to a request it cannot decode (HeaderExchangeHandler).
    default: return Status.BAD_REQUEST;
  }
}

export class DubboCodec extends Codec {
  private readonly body: Hessian2Reader = new Hessian2Reader();
  /** For encodeMutated, which decodes a frame again when it was not the last one decoded. */
  private readonly scratch: Metadata;
  /** The frame decode last returned Frame for (0: none), and its attachments offset (codecFlags). */
  private decodedPtr: usize = 0;
  private decodedLength: u32 = 0;
  private decodedMapOffset: u32 = 0;
  /** The metadata whose frame's rest is still undecoded (lazy), where it starts in the body, and the response flag (REQUEST_REST: a request). */
  private laterMd: Metadata | null = null;
  private laterPos: u32 = 0;
  private laterFlag: i32 = 0;

  constructor(limits: Limits) {
    super(limits);
    this.scratch = new Metadata(<i32>limits.maxMetadataEntries);
  }

  get name(): string { return "dubbo"; }

  get nativeRouter(): string { return "envoy.filters.network.dubbo_proxy"; }
  get routingKey(): string { return "attachment " + ROUTING_KEY + " (dubbo_proxy route header match)"; }
  get errorCodeField(): string { return "response status"; }
  /** The service path of the body: a Dubbo request names its service there (an attachment cannot). */
  get serviceKey(): ArrayBuffer { return KEY_INTERFACE; }
  errorCode(kind: ErrorKind): i32 { return <i32>statusFor(kind); }

  decode(ptr: usize, len: u32, md: Metadata): DecodeStatus {
    const status = this.decodeFrame(ptr, len, md);
    this.decodedPtr = status == DecodeStatus.Frame ? ptr : 0;
    this.decodedLength = status == DecodeStatus.Frame ? md.frameLength : 0;
    this.decodedMapOffset = status == DecodeStatus.Frame ? md.codecFlags : 0;
    return status;
  }

  private decodeFrame(ptr: usize, len: u32, md: Metadata): DecodeStatus {
    this.error = DecodeError.None;
    this.laterMd = null;
    if (len == 0) return DecodeStatus.NeedMore;
    // Reject a stream that is not Dubbo at its first bytes, before waiting for a whole header.
    if (<u32>load<u8>(ptr) != MAGIC_HIGH || (len >= 2 && <u32>load<u8>(ptr + 1) != (MAGIC & 0xff))) {
      return this.fail(DecodeError.Malformed, "not a Dubbo frame (bad magic)");
    }
    if (len < HEADER_SIZE) return DecodeStatus.NeedMore;

    // The whole header is there (len >= HEADER_SIZE): plain loads, big-endian.
    const flag = <u32>load<u8>(ptr + 2);
    const status = <u32>load<u8>(ptr + 3);
    const requestId = <i64>bswap<u64>(load<u64>(ptr + 4));
    const bodyLength = bswap<u32>(load<u32>(ptr + 12));
    if (bodyLength > MAX_BODY) return this.fail(DecodeError.Malformed, "negative Dubbo body length");
    const frameLength = HEADER_SIZE + bodyLength;
    if (frameLength > this.limits.maxFrameBytes) return this.fail(DecodeError.FrameTooLarge, "Dubbo frame larger than the limit");
    if (len < frameLength) return DecodeStatus.NeedMore;
    if ((flag & SERIALIZATION_MASK) != SERIALIZATION_HESSIAN2) {
      return this.fail(DecodeError.Unsupported, "Dubbo serialization other than hessian2");
    }

    md.requestId = requestId;
    md.frameLength = frameLength;
    md.codecFlags = 0;
    const event = (flag & FLAG_EVENT) != 0;
    this.body.reset(ptr + HEADER_SIZE, bodyLength, this.limits.maxDepth);

    if ((flag & FLAG_REQUEST) != 0) {
      md.twoWay = (flag & FLAG_TWO_WAY) != 0;
      if (event) { md.kind = MessageKind.Heartbeat; return DecodeStatus.Frame; }
      md.kind = md.twoWay ? MessageKind.Request : MessageKind.Oneway;
      return this.decodeRequestBody(md);
    }
    md.twoWay = false;
    if (event) { md.kind = MessageKind.Heartbeat; return DecodeStatus.Frame; }
    if (status != Status.OK) { md.kind = MessageKind.Error; return DecodeStatus.Frame; }
    return this.decodeResponseBody(md);
  }

  private decodeRequestBody(md: Metadata): DecodeStatus {
    const b = this.body;
    if (!this.stringField(md, null)) return this.bodyError(); // dubbo version
    if (!this.stringField(md, KEY_INTERFACE)) return this.bodyError(); // service path
    if (!this.stringField(md, KEY_VERSION)) return this.bodyError();
    if (!this.stringField(md, KEY_METHOD)) return this.bodyError();
    if (this.lazy && !b.atEnd) return this.deferRest(md, REQUEST_REST);
    return this.decodeRequestRest(md);
  }

  /** A request body after its method: parameter types, the arguments (skipped), the attachments. */
  private decodeRequestRest(md: Metadata): DecodeStatus {
    const b = this.body;
    const types = b.readString();
    let parameters = 0;
    if (types == StringKind.Contiguous) {
      parameters = countParameters(b.spanPtr, b.spanLen);
      if (parameters < 0) return this.fail(DecodeError.Malformed, "Dubbo parameter types are not JVM descriptors");
    } else if (types != StringKind.Null) {
      return types == StringKind.Invalid ? this.bodyError() : this.fail(DecodeError.Malformed, "Dubbo parameter types are not a string");
    }
    for (let i = 0; i < parameters; i++) {
      if (!b.skipValue()) return this.bodyError();
    }
    // Dubbo always writes the attachments; an older peer may end the body after the arguments.
    if (b.atEnd) return DecodeStatus.Frame;
    return this.decodeAttachments(md, true);
  }

  private decodeResponseBody(md: Metadata): DecodeStatus {
    const b = this.body;
    const flag = b.readInt();
    if (b.failed) return this.bodyError();
    if (flag < ResponseFlag.WITH_EXCEPTION || flag > ResponseFlag.NULL_VALUE_WITH_ATTACHMENTS) {
      return this.fail(DecodeError.Malformed, "unknown Dubbo response flag");
    }
    md.kind = isException(flag) ? MessageKind.Error : MessageKind.Response;
    if (!hasAttachments(flag)) return DecodeStatus.Frame;
    if (this.lazy) return this.deferRest(md, flag);
    return this.decodeResponseRest(md, flag);
  }

  /** A response body after its flag (one with attachments): the value or exception (skipped), the attachments. */
  private decodeResponseRest(md: Metadata, flag: i32): DecodeStatus {
    const b = this.body;
    if (flag != ResponseFlag.NULL_VALUE_WITH_ATTACHMENTS && !b.skipValue()) return this.bodyError();
    return this.decodeAttachments(md, false);
  }

  /**
   * Lazy decode: the frame is a Frame now; the rest waits for a lookup (decodeLater). The body reader
   * stays where it is: no other frame is decoded with this codec before the lookups of this one (the
   * filter reads a frame's metadata in the callback that decoded it, before the next decode).
   */
  private deferRest(md: Metadata, responseFlag: i32): DecodeStatus {
    this.laterMd = md;
    this.laterPos = this.body.pos;
    this.laterFlag = responseFlag;
    md.deferLater(this);
    return DecodeStatus.Frame;
  }

  /**
   * Every key but the method may be in the rest or contradicted by it: attachments, and the `path` and
   * `version` attachments that a provider serves instead of the body's service and version (checked
   * against them in decodeAttachments).
   */
  mayHoldLater(keyPtr: usize, keyLen: u32): bool {
    return !bytesEqual(keyPtr, keyLen, KEY_METHOD);
  }

  decodeLater(md: Metadata): bool {
    if (md !== this.laterMd) {
      // Another frame was decoded since: the bytes this one's rest was read from may be gone.
      this.fail(DecodeError.Malformed, "Dubbo attachments read after the frame was passed on (a filter bug)");
      return false;
    }
    this.laterMd = null;
    this.error = DecodeError.None;
    this.body.seek(this.laterPos);
    const status = this.laterFlag == REQUEST_REST ? this.decodeRequestRest(md) : this.decodeResponseRest(md, this.laterFlag);
    if (status != DecodeStatus.Frame) return false;
    this.decodedMapOffset = md.codecFlags;
    return true;
  }

  /** attachments ::= map of string keys to (mostly string) values, or null. */
  private decodeAttachments(md: Metadata, request: bool): DecodeStatus {
    const b = this.body;
    const offset = HEADER_SIZE + b.pos;
    if (b.peek() == <i32>Tag.NULL) { b.skipValue(); md.codecFlags = offset; return DecodeStatus.Frame; }
    if (!b.beginMap()) return this.bodyError();
    let entries: u32 = 0;
    while (!b.atMapEnd()) {
      if (b.failed) return this.bodyError();
      if (++entries > this.limits.maxMetadataEntries) {
        return this.fail(DecodeError.TooManyMetadataEntries, "more Dubbo attachments than the limit");
      }
      const key = b.readString();
      const keyPtr = b.spanPtr;
      const keyLen = b.spanLen;
      if (key == StringKind.Invalid) return this.bodyError();
      if (key == StringKind.Other && !b.skipValue()) return this.bodyError();
      if (key == StringKind.Chunked) return this.chunkedMetadata(keyLen);

      const value = b.readString();
      // A provider serves the service and version its `path` and `version` attachments name: it puts
      // every attachment over the body's fields (Dubbo DecodeableRpcInvocation.decode) and looks the
      // exporter up by them (DubboProtocol.getInvoker). Where they differ from the body's, routes and
      // policies would judge another call than the provider runs, so the request is refused. A consumer
      // writes both from the same values (DubboCodec.encodeRequestData).
      if (request && key == StringKind.Contiguous && !this.servedAsBodySays(md, keyPtr, keyLen, value)) {
        return value == StringKind.Invalid ? this.bodyError()
          : this.fail(DecodeError.Malformed, "Dubbo `path` or `version` attachment differs from the request body's");
      }
      if (value == StringKind.Invalid) return this.bodyError();
      if (value == StringKind.Other) {
        if (!b.skipValue()) return this.bodyError();
        continue;
      }
      if (value == StringKind.Chunked) return this.chunkedMetadata(b.spanLen);
      if (key != StringKind.Contiguous || value != StringKind.Contiguous) continue;
      // The body's service, version and method win over attachments of the same name.
      if (isBodyKey(keyPtr, keyLen)) continue;
      const status = this.addMetadata(md, keyPtr, keyLen, b.spanPtr, b.spanLen);
      if (status != DecodeStatus.Frame) return status;
    }
    if (b.failed) return this.bodyError();
    md.codecFlags = offset;
    return DecodeStatus.Frame;
  }

  /**
   * False when the attachment [keyPtr, keyLen) just read is `path` or `version` and its value (the
   * reader's span, of kind `value`) is not the body's service path or version; true for other keys.
   */
  private servedAsBodySays(md: Metadata, keyPtr: usize, keyLen: u32, value: StringKind): bool {
    let bodyKey: ArrayBuffer;
    if (bytesEqual(keyPtr, keyLen, KEY_PATH)) bodyKey = KEY_INTERFACE;
    else if (bytesEqual(keyPtr, keyLen, KEY_VERSION)) bodyKey = KEY_VERSION;
    else return true;
    const at = md.indexOfDecodedKey(bodyKey);
    if (value == StringKind.Null) return at < 0; // both null (a service without a version)
    if (value != StringKind.Contiguous || at < 0) return false;
    const b = this.body;
    return md.valueLenAt(at) == b.spanLen && sameMemory(md.valuePtrAt(at), b.spanPtr, b.spanLen);
  }

  /** Reads a string field of the body and, when `key` is given and the field is not null, adds it. */
  private stringField(md: Metadata, key: ArrayBuffer | null): bool {
    const b = this.body;
    const kind = b.readString();
    if (kind == StringKind.Null) return true;
    if (kind == StringKind.Contiguous) {
      if (key === null) return true;
      return this.addMetadata(md, changetype<usize>(key), <u32>key.byteLength, b.spanPtr, b.spanLen) == DecodeStatus.Frame;
    }
    if (kind == StringKind.Chunked) {
      if (key !== null) { this.chunkedMetadata(b.spanLen); return false; }
      return true;
    }
    if (kind == StringKind.Other) b.fail(DecodeError.Malformed, "Dubbo request header field is not a string");
    return false;
  }

  @inline private addMetadata(md: Metadata, keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): DecodeStatus {
    const max = this.limits.maxMetadataValueBytes;
    if (keyLen > max || valLen > max) return this.fail(DecodeError.MetadataValueTooLarge, "Dubbo attachment longer than the limit");
    if (<u32>md.count >= this.limits.maxMetadataEntries || !md.add(keyPtr, keyLen, valPtr, valLen)) {
      return this.fail(DecodeError.TooManyMetadataEntries, "more Dubbo metadata entries than the limit");
    }
    return DecodeStatus.Frame;
  }

  /** A metadata string sent in chunks (over 32768 UTF-16 units): no single span can hold it. */
  private chunkedMetadata(bytes: u32): DecodeStatus {
    if (bytes > this.limits.maxMetadataValueBytes) return this.fail(DecodeError.MetadataValueTooLarge, "Dubbo attachment longer than the limit");
    return this.fail(DecodeError.Unsupported, "chunked hessian2 string in Dubbo metadata");
  }

  /** The error the hessian2 reader (or a metadata check) recorded, as this codec's error. */
  private bodyError(): DecodeStatus {
    if (this.error != DecodeError.None && this.body.error == DecodeError.None) return DecodeStatus.Invalid;
    if (this.body.error == DecodeError.None) return this.fail(DecodeError.Malformed, "Dubbo body is not valid hessian2");
    return this.fail(this.body.error, this.body.errorDetail);
  }

  encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    const frameLength = md.frameLength;
    if (mutation.isEmpty) { out.bytes(ptr, frameLength); return true; }
    if (mutation.keys.length > MAX_MUTATION_KEYS) return false;
    const flag = <u32>load<u8>(ptr + 2);
    const isRequest = (flag & FLAG_REQUEST) != 0;
    if ((flag & FLAG_EVENT) != 0) return false;
    if (!isRequest && <u32>load<u8>(ptr + 3) != Status.OK) return false;

    // The map's entries may refer to class definitions made earlier in the body: the body reader holds
    // them when the frame at `ptr` is the one this codec decoded last (the filter encodes a frame right
    // after decoding it); otherwise decode again, which finds the attachments and rebuilds them.
    let mapOffset: u32;
    if (ptr == this.decodedPtr && frameLength == this.decodedLength) {
      // A lazily decoded frame's attachments are found (and checked) first; else a no-op.
      if (!md.complete()) return false;
      mapOffset = this.decodedMapOffset;
    } else {
      const scratch = this.scratch;
      scratch.reset();
      const lazy = this.lazy;
      this.lazy = false; // the attachments' offset is what this decode is for
      const status = this.decode(ptr, frameLength, scratch);
      this.lazy = lazy;
      if (status != DecodeStatus.Frame) return false;
      mapOffset = scratch.codecFlags;
    }

    let responseFlag: i32 = -1;
    if (!isRequest) {
      // A response gains attachments by switching its flag to the *_WITH_ATTACHMENTS variant.
      const first = <u32>load<u8>(ptr + HEADER_SIZE);
      if (first < Tag.INT_ZERO || first > Tag.INT_ZERO + <u32>ResponseFlag.NULL_VALUE_WITH_ATTACHMENTS) return false;
      responseFlag = <i32>(first - Tag.INT_ZERO);
      if (!hasAttachments(responseFlag) && mapOffset != 0) return false;
    }

    const start = out.length;
    const prefix = mapOffset != 0 ? mapOffset : frameLength;
    out.bytes(ptr, prefix);
    if (responseFlag >= 0) store<u8>(out.ptr + start + HEADER_SIZE, <u8>(Tag.INT_ZERO + <u32>withAttachments(responseFlag)));

    let applied: u64 = 0;
    let rest = frameLength;
    if (mapOffset == 0 || <u32>load<u8>(ptr + mapOffset) == Tag.NULL) {
      out.u8(Tag.MAP_UNTYPED);
      if (mapOffset != 0) rest = mapOffset + 1;
    } else {
      // Copy entries as they are, writing the new value in place of a mutated key's value.
      const b = this.body;
      b.seek(mapOffset - HEADER_SIZE);
      b.beginMap();
      out.bytes(ptr + mapOffset, HEADER_SIZE + b.pos - mapOffset); // 'H' (or 'M' and its type)
      while (!b.atMapEnd()) {
        const entryStart = b.pos;
        const key = b.readString();
        const keyPtr = b.spanPtr;
        const keyLen = b.spanLen;
        if (key != StringKind.Contiguous && key != StringKind.Chunked && key != StringKind.Null) b.skipValue();
        const valueStart = b.pos;
        b.skipValue();
        if (b.failed) { out.length = start; return false; }
        const i = key == StringKind.Contiguous ? indexOfKey(mutation, keyPtr, keyLen) : -1;
        const body = ptr + HEADER_SIZE;
        if (i < 0) {
          out.bytes(body + entryStart, b.pos - entryStart);
        } else if ((applied & (<u64>1 << <u64>i)) == 0) {
          out.bytes(body + entryStart, valueStart - entryStart);
          writeString(out, mutation.values[i]);
          applied |= <u64>1 << <u64>i;
        } // else: a repeated key already written, dropped
      }
      rest = HEADER_SIZE + b.pos;
    }
    for (let i = 0; i < mutation.keys.length; i++) {
      if ((applied & (<u64>1 << <u64>i)) != 0) continue;
      writeString(out, mutation.keys[i]);
      writeString(out, mutation.values[i]);
    }
    out.u8(Tag.END);
    if (rest < frameLength) out.bytes(ptr + rest, frameLength - rest);

    const bodyLength = out.length - start - HEADER_SIZE;
    if (bodyLength > MAX_BODY || HEADER_SIZE + bodyLength > this.limits.maxFrameBytes) { out.length = start; return false; }
    out.patchU32(start + 12, bodyLength);
    return true;
  }

  /**
   * Requests routed per request get the routing key as an attachment (dubbo_proxy matches attachments
   * as headers: controller/translate/envoy/routing_key.ts), with the route's mutation; otherwise the
   * mutation alone. Without either, the frame is unchanged. Refused mutations (events, error
   * responses, too many keys) set ctx.dropped and leave the frame unchanged.
   */
  encode(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded {
    const cluster = ctx.direction == Direction.Request ? ctx.cluster : null;
    if (cluster === null && ctx.mutation === null) return Encoded.Unchanged;
    const mutation = cluster !== null ? withRoutingKey(ctx.mutation, cluster) : ctx.mutation!;
    if (this.encodeMutated(ptr, md, mutation, out)) return Encoded.Written;
    ctx.dropped = true;
    return Encoded.Unchanged;
  }

  respond(kind: ErrorKind, message: string, request: Metadata, out: ByteWriter): void {
    const start = this.writeResponseHeader(out, request, statusFor(kind), 0);
    writeString(out, message);
    out.patchU32(start + 12, out.length - start - HEADER_SIZE);
  }

  /** The reply to a heartbeat request (what a provider answers); the filter lets heartbeats through, tests use it. */
  encodeHeartbeatReply(md: Metadata, out: ByteWriter): void {
    const start = this.writeResponseHeader(out, md, Status.OK, FLAG_EVENT);
    writeNull(out);
    out.patchU32(start + 12, out.length - start - HEADER_SIZE);
  }

  /**
   * A two-way heartbeat request with the rejected request's id: every Dubbo peer answers it at once,
   * and dubbo_proxy answers heartbeats itself, so `cluster` is not needed.
   */
  probe(request: Metadata, cluster: string | null, out: ByteWriter): bool {
    const start = out.length;
    out.u16(MAGIC);
    out.u8(FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | SERIALIZATION_HESSIAN2);
    out.u8(0);
    out.i64(request.requestId);
    out.u32(0);
    writeNull(out);
    out.patchU32(start + 12, out.length - start - HEADER_SIZE);
    return true;
  }

  /**
   * A frame decode refused is answerable when its 16-byte header is whole and says two-way request
   * (not an event): the request id is all a Dubbo consumer needs to fail the call with our message
   * (a frame over the size limit, an unsupported serialization, a body that is not hessian2).
   */
  identify(ptr: usize, len: u32, md: Metadata): bool {
    if (len < HEADER_SIZE || <u32>load<u8>(ptr) != MAGIC_HIGH || <u32>load<u8>(ptr + 1) != (MAGIC & 0xff)) return false;
    const flag = <u32>load<u8>(ptr + 2);
    if ((flag & FLAG_REQUEST) == 0 || (flag & FLAG_TWO_WAY) == 0 || (flag & FLAG_EVENT) != 0) return false;
    md.reset();
    md.kind = MessageKind.Request;
    md.twoWay = true;
    md.requestId = <i64>bswap<u64>(load<u64>(ptr + 4));
    return true;
  }

  /** Writes a response header with a body length to patch; returns where the frame starts. */
  private writeResponseHeader(out: ByteWriter, md: Metadata, status: u32, flags: u32): u32 {
    const start = out.length;
    out.u16(MAGIC);
    out.u8(flags | SERIALIZATION_HESSIAN2);
    out.u8(status);
    out.i64(md.requestId);
    out.u32(0);
    return start;
  }
}

function isBodyKey(ptr: usize, len: u32): bool {
  // By length first: "method" 6, "version" 7, "interface" 9 bytes (most attachment keys differ there).
  if (len != 6 && len != 7 && len != 9) return false;
  return bytesEqual(ptr, len, KEY_INTERFACE) || bytesEqual(ptr, len, KEY_VERSION) || bytesEqual(ptr, len, KEY_METHOD);
}

function indexOfKey(mutation: Mutation, ptr: usize, len: u32): i32 {
  for (let i = 0; i < mutation.keys.length; i++) {
    if (stringDataEquals(ptr, len, mutation.keys[i])) return i;
  }
  return -1;
}
