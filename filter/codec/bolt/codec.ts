// The SOFA Bolt codec: Bolt's RpcProtocol (protocol code 1) frames (protocol.ts) with SOFA RPC's
// header map (header_map.ts).
//
// Kinds: type REQUEST / REQUEST_ONEWAY with cmdcode RPC_REQUEST: Request / Oneway; cmdcode HEARTBEAT
// in either direction: Heartbeat (twoWay for a REQUEST); a RESPONSE with cmdcode RPC_RESPONSE:
// Response for status SUCCESS, Error otherwise. requestId: the header's signed 32-bit id.
// Metadata: `class` (the request/response object's class name), every header entry as it is
// (SOFA RPC's `service` among them), and `method` from SOFA RPC's `sofa_head_method_name`.
//
// codecFlags: ver2 | serializer << 8 | type << 16, for encode and respond.
import { ByteWriter } from "../bytes";
import { Codec, DecodeError, DecodeStatus, Direction, EncodeContext, Encoded, ErrorKind, Limits, Mutation } from "../codec";
import { KEY_METHOD, Metadata, MessageKind } from "../metadata";
import { sameMemory, utf8Of } from "../bytes";
import { writeHessianString } from "./hessian_string";
import { HeaderMapReader, writeEntry } from "./header_map";
import {
  CMD_HEARTBEAT, CMD_REQUEST, CMD_RESPONSE, COMMAND_VERSION, MAX_CONTENT, MAX_SECTION, OFFSET_CODEC, OFFSET_REQUEST_ID,
  OFFSET_VER2, PROTOCOL_V1, PROTOCOL_V2, REQUEST_HEADER_SIZE, RESPONSE_HEADER_SIZE, SERIALIZER_HESSIAN2, Status,
  TYPE_REQUEST, TYPE_REQUEST_ONEWAY, TYPE_RESPONSE, headerSize, lengthsAt,
} from "./protocol";

export const KEY_CLASS = utf8Of("class");
/** SOFA RPC's method header (RemotingConstants.HEAD_METHOD_NAME). */
const KEY_SOFA_METHOD = utf8Of("sofa_head_method_name");
/** The class name of respond()'s content: a hessian2 string the client deserializes without a class of ours. */
const STRING_CLASS = "java.lang.String";
/** Most mutation keys tracked in one pass (a 64-bit mask). */
const MAX_MUTATION_KEYS: i32 = 64;

/**
 * The response status of Meltemi's error reply per ErrorKind: the status a Bolt server answers in
 * the same situation (sofa-bolt RpcRequestProcessor, RpcResponseResolver on the client).
 */
export function statusFor(kind: ErrorKind): u32 {
  switch (kind) {
    // What a server whose executor rejects the request answers (RpcRequestProcessor,
    // RpcCommandHandler); the client throws InvokeServerBusyException.
    case ErrorKind.OverLimit: return Status.SERVER_THREADPOOL_BUSY;
    // A processor that throws is answered SERVER_EXCEPTION (InvokeServerException on the client).
    case ErrorKind.Unauthorized: return Status.SERVER_EXCEPTION;
    case ErrorKind.FaultAbort: return Status.SERVER_EXCEPTION;
    // Bolt's own status for "no processor"; the client's InvokeException names it ("Rpc invocation
    // exception: NO_PROCESSOR"). (A 1.6 server with no processor for the class answers
    // SERVER_EXCEPTION with an RpcServerException instead: RpcRequestProcessor.)
    case ErrorKind.NoRoute: return Status.NO_PROCESSOR;
    // What a server answers to a request it cannot deserialize (RpcRequestProcessor).
    default: return Status.SERVER_DESERIAL_EXCEPTION;
  }
}

export class BoltCodec extends Codec {
  private readonly headers: HeaderMapReader = new HeaderMapReader();

  constructor(limits: Limits) { super(limits); }

  get name(): string { return "bolt"; }
  get errorCodeField(): string { return "response status"; }
  errorCode(kind: ErrorKind): i32 { return <i32>statusFor(kind); }

  decode(ptr: usize, len: u32, md: Metadata): DecodeStatus {
    this.error = DecodeError.None;
    if (len == 0) return DecodeStatus.NeedMore;
    const proto = <u32>load<u8>(ptr);
    if (proto == PROTOCOL_V2) return this.fail(DecodeError.Unsupported, "Bolt protocol v2");
    if (proto != PROTOCOL_V1) return this.fail(DecodeError.Malformed, "not a Bolt frame (protocol code)");
    if (len < 2) return DecodeStatus.NeedMore;
    const type = <u32>load<u8>(ptr + 1);
    if (type > TYPE_REQUEST_ONEWAY) return this.fail(DecodeError.Malformed, "unknown Bolt command type");
    const size = headerSize(type);
    if (len < size) return DecodeStatus.NeedMore;

    const cmd = load16(ptr + 2);
    const lengths = ptr + lengthsAt(type);
    const classLen = load16(lengths);
    const headerLen = load16(lengths + 2);
    const contentLen = load32(lengths + 4);
    if (classLen > MAX_SECTION || headerLen > MAX_SECTION || contentLen > MAX_CONTENT) {
      return this.fail(DecodeError.Malformed, "negative Bolt section length");
    }
    const frameLength = <u64>size + <u64>classLen + <u64>headerLen + <u64>contentLen;
    if (frameLength > <u64>this.limits.maxFrameBytes) return this.fail(DecodeError.FrameTooLarge, "Bolt frame larger than the limit");
    if (<u64>len < frameLength) return DecodeStatus.NeedMore;

    md.requestId = <i64>load32i(ptr + OFFSET_REQUEST_ID);
    md.frameLength = <u32>frameLength;
    md.codecFlags = <u32>load<u8>(ptr + OFFSET_VER2) | <u32>load<u8>(ptr + OFFSET_CODEC) << 8 | type << 16;
    if (type == TYPE_RESPONSE) {
      md.twoWay = false;
      if (cmd == CMD_HEARTBEAT) { md.kind = MessageKind.Heartbeat; return DecodeStatus.Frame; }
      if (cmd != CMD_RESPONSE) return this.fail(DecodeError.Malformed, "unknown Bolt response command code");
      md.kind = load16(ptr + 10) == Status.SUCCESS ? MessageKind.Response : MessageKind.Error;
    } else {
      md.twoWay = type == TYPE_REQUEST;
      if (cmd == CMD_HEARTBEAT) { md.kind = MessageKind.Heartbeat; return DecodeStatus.Frame; }
      if (cmd != CMD_REQUEST) return this.fail(DecodeError.Malformed, "unknown Bolt request command code");
      md.kind = md.twoWay ? MessageKind.Request : MessageKind.Oneway;
    }

    const max = this.limits.maxMetadataValueBytes;
    if (classLen > 0) {
      if (classLen > max) return this.fail(DecodeError.MetadataValueTooLarge, "Bolt class name longer than the limit");
      if (!this.add(md, changetype<usize>(KEY_CLASS), <u32>KEY_CLASS.byteLength, ptr + size, classLen)) return DecodeStatus.Invalid;
    }
    const h = this.headers.reset(ptr + size + classLen, headerLen);
    let entries: u32 = 0;
    while (h.next()) {
      if (++entries > this.limits.maxMetadataEntries) return this.fail(DecodeError.TooManyMetadataEntries, "more Bolt header entries than the limit");
      if (h.isNull) continue;
      if (h.keyLen > max || h.valueLen > max) return this.fail(DecodeError.MetadataValueTooLarge, "Bolt header entry longer than the limit");
      if (!this.add(md, h.keyPtr, h.keyLen, h.valuePtr, h.valueLen)) return DecodeStatus.Invalid;
      if (sameBytes(h.keyPtr, h.keyLen, KEY_SOFA_METHOD) &&
        !this.add(md, changetype<usize>(KEY_METHOD), <u32>KEY_METHOD.byteLength, h.valuePtr, h.valueLen)) return DecodeStatus.Invalid;
    }
    if (!h.ok) return this.fail(DecodeError.Malformed, "Bolt header map entry past its section");
    return DecodeStatus.Frame;
  }

  private add(md: Metadata, keyPtr: usize, keyLen: u32, valuePtr: usize, valueLen: u32): bool {
    return this.addWithinLimit(md, keyPtr, keyLen, valuePtr, valueLen, "more Bolt metadata entries than the limit");
  }

  /**
   * With a mutation: the header map with mutated keys' values replaced in place, new keys appended,
   * headerLen fixed. Bolt has no native Envoy router, so `ctx.cluster` never comes (the configuration
   * parser refuses perRequest for a codec without one). Refused (dropped): heartbeats, a header over
   * 32767 bytes (Java reads the length as a short), a frame over the limit.
   */
  encode(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded {
    return this.encodeMutationOnly(ptr, md, ctx, out);
  }

  encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    if (md.kind == MessageKind.Heartbeat || mutation.keys.length > MAX_MUTATION_KEYS) return false;
    const type = (md.codecFlags >> 16) & 0xff;
    const size = headerSize(type);
    const lengths = lengthsAt(type);
    const classLen = load16(ptr + lengths);
    const headerLen = load16(ptr + lengths + 2);
    const contentLen = load32(ptr + lengths + 4);
    const start = out.length;
    out.bytes(ptr, size + classLen);
    const mapStart = out.length;
    let applied: u64 = 0;
    const h = this.headers.reset(ptr + size + classLen, headerLen);
    const section = ptr + size + classLen;
    while (h.next()) {
      const i = h.isNull ? -1 : mutation.indexOfUtf8(h.keyPtr, h.keyLen);
      if (i < 0) { out.bytes(section + h.entryStart, h.valueStart - h.entryStart + 4 + h.valueLen); continue; }
      if ((applied & (<u64>1 << <u64>i)) != 0) continue; // a repeated key already written
      writeEntry(out, unchecked(mutation.keys[i]), unchecked(mutation.values[i]));
      applied |= <u64>1 << <u64>i;
    }
    if (!h.ok) { out.length = start; return false; }
    for (let i = 0; i < mutation.keys.length; i++) {
      if ((applied & (<u64>1 << <u64>i)) == 0) writeEntry(out, unchecked(mutation.keys[i]), unchecked(mutation.values[i]));
    }
    const newHeaderLen = out.length - mapStart;
    if (newHeaderLen > MAX_SECTION || <u64>size + classLen + newHeaderLen + contentLen > <u64>this.limits.maxFrameBytes) {
      out.length = start;
      return false;
    }
    out.bytes(ptr + size + classLen + headerLen, contentLen);
    store<u16>(out.ptr + start + lengths + 2, bswap<u16>(<u16>newHeaderLen));
    return true;
  }

  /**
   * A Bolt response (cmdcode RPC_RESPONSE) with the request's id and command version, the status
   * for `kind` (statusFor), class java.lang.String and the message as a hessian2 string: a Bolt
   * client deserializes it without any class of ours and fails the call with the status's exception.
   */
  respond(kind: ErrorKind, message: string, request: Metadata, out: ByteWriter): void {
    const start = out.length;
    this.writeHeader(out, TYPE_RESPONSE, CMD_RESPONSE, request);
    out.u16(statusFor(kind));
    const classLen = <u32>String.UTF8.byteLength(STRING_CLASS, false);
    out.u16(classLen);
    out.u16(0);
    out.u32(0);
    out.utf8(STRING_CLASS);
    const content = out.length;
    writeHessianString(out, message);
    out.patchU32(start + RESPONSE_HEADER_SIZE - 4, out.length - content);
  }

  /** A two-way heartbeat with the rejected request's id: every Bolt server answers it (RpcHeartBeatProcessor) with that id. */
  probe(request: Metadata, cluster: string | null, out: ByteWriter): bool {
    this.writeHeader(out, TYPE_REQUEST, CMD_HEARTBEAT, request);
    out.u32(0); // timeout
    out.u16(0);
    out.u16(0);
    out.u32(0);
    return true;
  }

  /** The heartbeat ack a server writes (HeartbeatAckCommand); for tests. */
  encodeHeartbeatReply(md: Metadata, out: ByteWriter): void {
    this.writeHeader(out, TYPE_RESPONSE, CMD_HEARTBEAT, md);
    out.u16(Status.SUCCESS);
    out.u16(0);
    out.u16(0);
    out.u32(0);
  }

  /**
   * A refused frame is answerable when its request header (22 bytes) is whole and says a two-way
   * RPC request: the request id is what a Bolt client matches the reply on.
   */
  identify(ptr: usize, len: u32, md: Metadata): bool {
    if (len < REQUEST_HEADER_SIZE || <u32>load<u8>(ptr) != PROTOCOL_V1) return false;
    if (<u32>load<u8>(ptr + 1) != TYPE_REQUEST || load16(ptr + 2) != CMD_REQUEST) return false;
    md.reset();
    md.kind = MessageKind.Request;
    md.twoWay = true;
    md.requestId = <i64>load32i(ptr + OFFSET_REQUEST_ID);
    md.codecFlags = <u32>load<u8>(ptr + OFFSET_VER2) | <u32>load<u8>(ptr + OFFSET_CODEC) << 8 | TYPE_REQUEST << 16;
    return true;
  }

  /** proto, type, cmdcode, ver2 (the request's, else 1), id, serializer hessian2. */
  private writeHeader(out: ByteWriter, type: u32, cmd: u32, request: Metadata): void {
    const ver2 = request.codecFlags & 0xff;
    out.u8(PROTOCOL_V1);
    out.u8(type);
    out.u16(cmd);
    out.u8(ver2 != 0 ? ver2 : COMMAND_VERSION);
    out.u32(<u32>request.requestId);
    out.u8(SERIALIZER_HESSIAN2);
  }
}

@inline function load16(p: usize): u32 { return <u32>bswap<u16>(load<u16>(p)); }
@inline function load32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
@inline function load32i(p: usize): i32 { return <i32>bswap<u32>(load<u32>(p)); }

function sameBytes(ptr: usize, len: u32, key: ArrayBuffer): bool {
  return <u32>key.byteLength == len && sameMemory(ptr, changetype<usize>(key), len);
}
