// The tRPC codec: trpc-go's `trpc` protocol (protocol.ts): a 16-byte frame head, a protobuf
// RequestProtocol or ResponseProtocol header (protobuf.ts reads it in place), body, attachment.
//
// Kinds: a request (Codec.decoding: the frame head is the same both ways) with call_type ONEWAY:
// Oneway, else Request; an answer with ret or func_ret set: Error, else Response. No heartbeats:
// trpc-go has none. requestId: the header's request_id (u32). Stream frames (data frame type 1,
// tRPC streaming) are `unsupported`.
// Metadata (spans): `caller`, `callee`, `func` as sent (the names Aeraki's MetaRouters match), and
// from func "/pkg.Service/Method" `service` ("pkg.Service") and `method` ("Method"); then every
// trans_info entry as sent, except entries named like those five.
//
// codecFlags: the frame head's protocol version | ANSWER_FLAG for an answer.
import { ByteWriter, sameMemory, utf8Of } from "../bytes";
import { Codec, DecodeError, DecodeStatus, Direction, EncodeContext, Encoded, ErrorKind, Mutation } from "../codec";
import { KEY_METHOD, KEY_SERVICE, Metadata, MessageKind } from "../metadata";
import { ProtoReader, WIRE_LEN, WIRE_VARINT, varintSize, writeBytesField, writeTag, writeVarintField } from "../protobuf";
import {
  CALL_ONEWAY, CALL_UNARY, ENTRY_KEY, ENTRY_VALUE, FRAME_HEAD_SIZE, FRAME_STREAM, FRAME_UNARY, MAGIC, MAGIC_HI, MAGIC_LO,
  MAX_HEADER_LEN, OFFSET_FRAME_TYPE, OFFSET_HEADER_LEN, OFFSET_TOTAL_LEN, OFFSET_VERSION,
  PROTOCOL_VERSION, Req, Ret, Rsp,
} from "./protocol";

export const KEY_CALLER = utf8Of("caller");
export const KEY_CALLEE = utf8Of("callee");
export const KEY_FUNC = utf8Of("func");
const ANSWER_FLAG: u32 = 0x100;
/**
 * The probe's func: no service registers it (a tRPC rpc name is "/<service>/<method>", and a `.`-less
 * service named `meltemi-probe` is not a proto service name), so trpc-go's server answers it at once
 * with TRPC_SERVER_NOFUNC_ERR and the same request_id (server/service.go `handle`). A service that
 * registers the wildcard handler "*" would run it.
 */
export const PROBE_FUNC = "/meltemi-probe/none";
const PROBE_FUNC_UTF8 = utf8Of(PROBE_FUNC);

/**
 * The TrpcRetCode of Meltemi's error reply per ErrorKind: the framework code a trpc-go server answers
 * in the same situation (errs package); trpc-go's client reports it as an errs.Error of type
 * ErrorTypeCalleeFramework with that code and the reply's error_msg.
 */
export function retFor(kind: ErrorKind): i32 {
  switch (kind) {
    // RetServerThrottled, "the server's current limit": what trpc-go's server-side rate limit
    // filters answer (RetServerOverload is the overload-protection code).
    case ErrorKind.OverLimit: return Ret.SERVER_LIMITED_ERR;
    // RetServerAuthFail, "authentication failure".
    case ErrorKind.Unauthorized: return Ret.SERVER_AUTH_ERR;
    // RetServerSystemErr: an injected failure of the server.
    case ErrorKind.FaultAbort: return Ret.SERVER_SYSTEM_ERR;
    // RetServerNoFunc: what the server answers for an rpc name it does not serve.
    case ErrorKind.NoRoute: return Ret.SERVER_NOFUNC_ERR;
    // RetServerDecodeFail: a request the server cannot decode.
    default: return Ret.SERVER_DECODE_ERR;
  }
}

export class TrpcCodec extends Codec {
  private readonly header: ProtoReader = new ProtoReader();
  private readonly entry: ProtoReader = new ProtoReader();
  /** The last decoded header's attachment_size (checked against the frame). */
  private attachmentSize: u64 = 0;

  get name(): string { return "trpc"; }
  get errorCodeField(): string { return "ResponseProtocol.ret (TrpcRetCode)"; }
  errorCode(kind: ErrorKind): i32 { return retFor(kind); }

  decode(ptr: usize, len: u32, md: Metadata): DecodeStatus {
    this.error = DecodeError.None;
    if (len == 0) return DecodeStatus.NeedMore;
    if (<u32>load<u8>(ptr) != MAGIC_HI) return this.fail(DecodeError.Malformed, "not a tRPC frame (magic)");
    if (len < 2) return DecodeStatus.NeedMore;
    if (<u32>load<u8>(ptr + 1) != MAGIC_LO) return this.fail(DecodeError.Malformed, "not a tRPC frame (magic)");
    if (len < FRAME_HEAD_SIZE) return DecodeStatus.NeedMore;
    const frameType = <u32>load<u8>(ptr + OFFSET_FRAME_TYPE);
    if (frameType == FRAME_STREAM) return this.fail(DecodeError.Unsupported, "tRPC stream frame");
    if (frameType != FRAME_UNARY) return this.fail(DecodeError.Malformed, "unknown tRPC data frame type");
    const total = load32(ptr + OFFSET_TOTAL_LEN);
    const headerLen = load16(ptr + OFFSET_HEADER_LEN);
    // trpc-go refuses a unary frame without a header, and one whose header runs past the frame.
    if (headerLen == 0) return this.fail(DecodeError.Malformed, "tRPC frame without a header");
    if (<u64>total < <u64>FRAME_HEAD_SIZE + <u64>headerLen) return this.fail(DecodeError.Malformed, "tRPC total length shorter than its header");
    if (total > this.limits.maxFrameBytes) return this.fail(DecodeError.FrameTooLarge, "tRPC frame larger than the limit");
    if (len < total) return DecodeStatus.NeedMore;

    md.frameLength = total;
    const answer = this.decoding == Direction.Response;
    md.codecFlags = <u32>load<u8>(ptr + OFFSET_VERSION) | (answer ? ANSWER_FLAG : 0);
    const start = ptr + FRAME_HEAD_SIZE;
    const ok = answer ? this.readResponse(start, headerLen, md) : this.readRequest(start, headerLen, md);
    if (!ok) return DecodeStatus.Invalid;
    if (this.attachmentSize > <u64>(total - FRAME_HEAD_SIZE - headerLen)) {
      return this.fail(DecodeError.Malformed, "tRPC attachment_size past the frame");
    }
    return DecodeStatus.Frame;
  }

  private readRequest(ptr: usize, len: u32, md: Metadata): bool {
    const r = this.header.reset(ptr, ptr + len);
    let callType: u64 = CALL_UNARY;
    let requestId: u64 = 0;
    let entries: u32 = 0;
    this.attachmentSize = 0;
    while (!r.done) {
      const key = r.key();
      if (!r.ok) break;
      const field = key >> 3;
      const wire = key & 7;
      if (wire == WIRE_VARINT && field == Req.CALL_TYPE) callType = r.varint();
      else if (wire == WIRE_VARINT && field == Req.REQUEST_ID) requestId = r.varint();
      else if (wire == WIRE_VARINT && field == Req.ATTACHMENT_SIZE) this.attachmentSize = r.varint();
      else if (wire == WIRE_LEN && (field == Req.CALLER || field == Req.CALLEE || field == Req.FUNC)) {
        if (!r.len()) break;
        if (!this.addField(md, field, r.lenStart, <u32>(r.lenEnd - r.lenStart))) return false;
      } else if (wire == WIRE_LEN && field == Req.TRANS_INFO) {
        if (!r.len()) break;
        if (++entries > this.limits.maxMetadataEntries) { this.fail(DecodeError.TooManyMetadataEntries, "more tRPC trans_info entries than the limit"); return false; }
        if (!this.addEntry(md, r.lenStart, r.lenEnd)) return false;
      } else r.skip(wire);
    }
    if (!r.ok) { this.fail(DecodeError.Malformed, "tRPC RequestProtocol is not valid protobuf"); return false; }
    md.requestId = <i64><u32>requestId;
    md.twoWay = callType != CALL_ONEWAY;
    md.kind = md.twoWay ? MessageKind.Request : MessageKind.Oneway;
    return true;
  }

  private readResponse(ptr: usize, len: u32, md: Metadata): bool {
    const r = this.header.reset(ptr, ptr + len);
    let requestId: u64 = 0;
    let failed = false;
    let entries: u32 = 0;
    this.attachmentSize = 0;
    while (!r.done) {
      const key = r.key();
      if (!r.ok) break;
      const field = key >> 3;
      const wire = key & 7;
      if (wire == WIRE_VARINT && field == Rsp.REQUEST_ID) requestId = r.varint();
      else if (wire == WIRE_VARINT && (field == Rsp.RET || field == Rsp.FUNC_RET)) { if (r.varint() != 0) failed = true; }
      else if (wire == WIRE_VARINT && field == Rsp.ATTACHMENT_SIZE) this.attachmentSize = r.varint();
      else if (wire == WIRE_LEN && field == Rsp.TRANS_INFO) {
        if (!r.len()) break;
        if (++entries > this.limits.maxMetadataEntries) { this.fail(DecodeError.TooManyMetadataEntries, "more tRPC trans_info entries than the limit"); return false; }
        if (!this.addEntry(md, r.lenStart, r.lenEnd)) return false;
      } else r.skip(wire);
    }
    if (!r.ok) { this.fail(DecodeError.Malformed, "tRPC ResponseProtocol is not valid protobuf"); return false; }
    md.requestId = <i64><u32>requestId;
    md.twoWay = false;
    md.kind = failed ? MessageKind.Error : MessageKind.Response;
    return true;
  }

  /** caller, callee, func; func "/pkg.Service/Method" also as `service` and `method`. */
  private addField(md: Metadata, field: u32, ptr: usize, len: u32): bool {
    if (len > this.limits.maxMetadataValueBytes) { this.fail(DecodeError.MetadataValueTooLarge, "tRPC caller/callee/func longer than the limit"); return false; }
    const key = field == Req.CALLER ? KEY_CALLER : field == Req.CALLEE ? KEY_CALLEE : KEY_FUNC;
    if (!this.add(md, changetype<usize>(key), <u32>key.byteLength, ptr, len)) return false;
    if (field != Req.FUNC) return true;
    let slash: i32 = -1;
    for (let i = <i32>len - 1; i >= 0; i--) {
      if (load<u8>(ptr + <usize>i) == 0x2f) { slash = i; break; }
    }
    if (slash < 0) return this.add(md, changetype<usize>(KEY_METHOD), <u32>KEY_METHOD.byteLength, ptr, len);
    const from: u32 = len > 0 && load<u8>(ptr) == 0x2f ? 1 : 0;
    if (<u32>slash > from && !this.add(md, changetype<usize>(KEY_SERVICE), <u32>KEY_SERVICE.byteLength, ptr + from, <u32>slash - from)) return false;
    return this.add(md, changetype<usize>(KEY_METHOD), <u32>KEY_METHOD.byteLength, ptr + <usize>slash + 1, len - <u32>slash - 1);
  }

  /** One trans_info map entry {1 key, 2 value} at [start, end). */
  private addEntry(md: Metadata, start: usize, end: usize): bool {
    const e = this.entry.reset(start, end);
    let keyPtr: usize = 0, keyLen: u32 = 0, valuePtr: usize = 0, valueLen: u32 = 0;
    while (!e.done) {
      const key = e.key();
      if (!e.ok) break;
      const field = key >> 3;
      const wire = key & 7;
      if (wire == WIRE_LEN && (field == ENTRY_KEY || field == ENTRY_VALUE)) {
        if (!e.len()) break;
        if (field == ENTRY_KEY) { keyPtr = e.lenStart; keyLen = <u32>(e.lenEnd - e.lenStart); }
        else { valuePtr = e.lenStart; valueLen = <u32>(e.lenEnd - e.lenStart); }
      } else e.skip(wire);
    }
    if (!e.ok) { this.fail(DecodeError.Malformed, "tRPC trans_info entry is not valid protobuf"); return false; }
    const max = this.limits.maxMetadataValueBytes;
    if (keyLen > max || valueLen > max) { this.fail(DecodeError.MetadataValueTooLarge, "tRPC trans_info entry longer than the limit"); return false; }
    // The header's own fields name what is called; an entry cannot override them.
    if (keyLen == 0 || isReserved(keyPtr, keyLen)) return true;
    return this.add(md, keyPtr, keyLen, valuePtr, valueLen);
  }

  private add(md: Metadata, keyPtr: usize, keyLen: u32, valuePtr: usize, valueLen: u32): bool {
    return this.addWithinLimit(md, keyPtr, keyLen, valuePtr, valueLen, "more tRPC metadata entries than the limit");
  }

  /**
   * With a mutation: the header with the mutated keys as trans_info entries (an entry of the same key
   * is dropped, new entries follow the other fields), the header and total lengths fixed. tRPC has no
   * native Envoy router, so `ctx.cluster` never comes. Refused (dropped): a header over 65535 bytes, a
   * frame over the limit.
   */
  encode(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded {
    return this.encodeMutationOnly(ptr, md, ctx, out);
  }

  encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    const transInfo = (md.codecFlags & ANSWER_FLAG) != 0 ? Rsp.TRANS_INFO : Req.TRANS_INFO;
    const total = load32(ptr + OFFSET_TOTAL_LEN);
    const headerLen = load16(ptr + OFFSET_HEADER_LEN);
    const start = out.length;
    out.bytes(ptr, FRAME_HEAD_SIZE);
    const headerStart = out.length;
    const r = this.header.reset(ptr + FRAME_HEAD_SIZE, ptr + FRAME_HEAD_SIZE + headerLen);
    while (!r.done) {
      const fieldStart = r.pos;
      const key = r.key();
      if (!r.ok) break;
      const wire = key & 7;
      if (wire == WIRE_LEN && key >> 3 == transInfo) {
        if (!r.len()) break;
        const mutated = entryKeyIn(this.entry.reset(r.lenStart, r.lenEnd), mutation);
        if (mutated < 0) { r.ok = false; break; }
        if (mutated > 0) continue;
      } else r.skip(wire);
      if (r.ok) out.bytes(fieldStart, <u32>(r.pos - fieldStart));
    }
    if (!r.ok) { out.length = start; return false; }
    for (let i = 0; i < mutation.keys.length; i++) {
      writeEntry(out, transInfo, unchecked(mutation.keys[i]), unchecked(mutation.values[i]));
    }
    const newHeaderLen = out.length - headerStart;
    const rest = total - FRAME_HEAD_SIZE - headerLen;
    const newTotal = <u64>FRAME_HEAD_SIZE + <u64>newHeaderLen + <u64>rest;
    if (newHeaderLen > MAX_HEADER_LEN || newTotal > <u64>this.limits.maxFrameBytes) { out.length = start; return false; }
    out.bytes(ptr + FRAME_HEAD_SIZE + headerLen, rest);
    out.patchU32(start + <u32>OFFSET_TOTAL_LEN, <u32>newTotal);
    store<u16>(out.ptr + start + OFFSET_HEADER_LEN, bswap<u16>(<u16>newHeaderLen));
    return true;
  }

  /**
   * A ResponseProtocol for `request.requestId` with ret = retFor(kind) and error_msg = `message`, no
   * body: trpc-go's client fails the call with an errs.Error (type callee framework) of that code and
   * message (codec.go `updateMsg`).
   */
  respond(kind: ErrorKind, message: string, request: Metadata, out: ByteWriter): void {
    const start = this.writeHead(out, request);
    const headerStart = out.length;
    if (request.requestId != 0) writeVarintField(out, Rsp.REQUEST_ID, <u64><u32>request.requestId);
    // int32 on the wire: a negative code would be 10 bytes; every code here is positive.
    writeVarintField(out, Rsp.RET, <u64><u32>retFor(kind));
    const bytes = <u32>String.UTF8.byteLength(message, false);
    if (bytes > 0) {
      writeTag(out, Rsp.ERROR_MSG, WIRE_LEN);
      out.uvarint(bytes);
      out.utf8(message);
    }
    this.patchHead(out, start, headerStart);
  }

  /**
   * A unary call of PROBE_FUNC with the rejected request's id: trpc-go's server answers it at once with
   * RetServerNoFunc and that request_id.
   */
  probe(request: Metadata, cluster: string | null, out: ByteWriter): bool {
    const start = this.writeHead(out, request);
    const headerStart = out.length;
    if (request.requestId != 0) writeVarintField(out, Req.REQUEST_ID, <u64><u32>request.requestId);
    writeBytesField(out, Req.FUNC, changetype<usize>(PROBE_FUNC_UTF8), <u32>PROBE_FUNC_UTF8.byteLength);
    this.patchHead(out, start, headerStart);
    return true;
  }

  /**
   * A refused request is answerable when its frame head and whole header are at hand, the header
   * reads and says a unary (two-way) call: its request_id is what the client matches the reply on.
   */
  identify(ptr: usize, len: u32, md: Metadata): bool {
    if (len < FRAME_HEAD_SIZE || load16(ptr) != MAGIC || <u32>load<u8>(ptr + OFFSET_FRAME_TYPE) != FRAME_UNARY) return false;
    const headerLen = load16(ptr + OFFSET_HEADER_LEN);
    if (headerLen == 0 || FRAME_HEAD_SIZE + headerLen > len) return false;
    const r = this.header.reset(ptr + FRAME_HEAD_SIZE, ptr + FRAME_HEAD_SIZE + headerLen);
    let callType: u64 = CALL_UNARY;
    let requestId: u64 = 0;
    while (!r.done) {
      const key = r.key();
      if (!r.ok) break;
      const field = key >> 3;
      const wire = key & 7;
      if (wire == WIRE_VARINT && field == Req.CALL_TYPE) callType = r.varint();
      else if (wire == WIRE_VARINT && field == Req.REQUEST_ID) requestId = r.varint();
      else r.skip(wire);
    }
    if (!r.ok || callType == CALL_ONEWAY) return false;
    md.reset();
    md.kind = MessageKind.Request;
    md.twoWay = true;
    md.requestId = <i64><u32>requestId;
    md.codecFlags = <u32>load<u8>(ptr + OFFSET_VERSION);
    return true;
  }

  /** The frame head of a reply or probe for `request` (lengths patched later); returns its offset. */
  private writeHead(out: ByteWriter, request: Metadata): u32 {
    const start = out.length;
    const version = request.codecFlags & 0xff;
    out.u16(MAGIC);
    out.u8(FRAME_UNARY);
    out.u8(0);
    out.u32(0); // total length
    out.u16(0); // header length
    // trpc-go's client writes the request id as stream id in protocol version 1.
    out.u32(version == PROTOCOL_VERSION ? <u32>request.requestId : 0);
    out.u8(version);
    out.u8(0);
    return start;
  }

  private patchHead(out: ByteWriter, start: u32, headerStart: u32): void {
    out.patchU32(start + <u32>OFFSET_TOTAL_LEN, out.length - start);
    store<u16>(out.ptr + start + OFFSET_HEADER_LEN, bswap<u16>(<u16>(out.length - headerStart)));
  }
}

/** Whether the trans_info entry `e` reads has a key of `mutation`: 1 yes, 0 no, -1 not valid protobuf. */
function entryKeyIn(e: ProtoReader, mutation: Mutation): i32 {
  while (!e.done) {
    const key = e.key();
    if (!e.ok) break;
    if ((key & 7) == WIRE_LEN && key >> 3 == ENTRY_KEY) {
      if (!e.len()) break;
      return mutation.indexOfUtf8(e.lenStart, <u32>(e.lenEnd - e.lenStart)) >= 0 ? 1 : 0;
    }
    e.skip(key & 7);
  }
  return e.ok ? 0 : -1;
}

/** A trans_info entry {1 key, 2 value} of field `field`. */
function writeEntry(out: ByteWriter, field: u32, key: string, value: string): void {
  const k = <u32>String.UTF8.byteLength(key, false);
  const v = <u32>String.UTF8.byteLength(value, false);
  writeTag(out, field, WIRE_LEN);
  out.uvarint(1 + varintSize(k) + k + 1 + varintSize(v) + v);
  writeTag(out, ENTRY_KEY, WIRE_LEN);
  out.uvarint(k);
  out.utf8(key);
  writeTag(out, ENTRY_VALUE, WIRE_LEN);
  out.uvarint(v);
  out.utf8(value);
}

function isReserved(ptr: usize, len: u32): bool {
  return same(ptr, len, KEY_CALLER) || same(ptr, len, KEY_CALLEE) || same(ptr, len, KEY_FUNC) ||
    same(ptr, len, KEY_SERVICE) || same(ptr, len, KEY_METHOD);
}

@inline function same(ptr: usize, len: u32, key: ArrayBuffer): bool {
  return <u32>key.byteLength == len && sameMemory(ptr, changetype<usize>(key), len);
}
@inline function load16(p: usize): u32 { return <u32>bswap<u16>(load<u16>(p)); }
@inline function load32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
