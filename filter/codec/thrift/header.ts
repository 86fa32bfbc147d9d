// The THeader transport (Apache Thrift doc/specs/HeaderFormat.md):
//
//   LENGTH u32 | MAGIC 0x0FFF u16 | FLAGS u16 | SEQID i32 | HEADER SIZE u16 (in 4-byte words)
//   header data: PROTOCOL ID varint | NUM TRANSFORMS varint | TRANSFORM IDs varint...
//                INFO blocks: id varint; id 1 = key/values: varint count, then count x (varint length,
//                bytes key; varint length, bytes value); id 0 = padding; any other id ends what a
//                reader understands ("info's should be oldest supported to newest")
//                zero padding to a 4-byte boundary
//   payload: one message in the protocol named by PROTOCOL ID
//
// Encoding follows lib/cpp THeaderTransport::flush and Envoy's HeaderTransportImpl::encodeFrame, which
// agree byte for byte: one key/value block, header data always padded with 1 to 4 zero bytes.
import { ByteWriter } from "../bytes";
import { DecodeError } from "../codec";
import { ThriftReader } from "./reader";
import {
  HEADER_FIXED_BYTES, HEADER_INFO_KEYVALUE, HEADER_MAGIC, HEADER_MAX_DATA_BYTES, HEADER_MAX_STRING_BYTES,
} from "./wire";

/** The fixed fields and header data of a THeader frame, parsed by readHeaderData. */
@unmanaged
export class HeaderInfo {
  flags: u32 = 0;
  seqid: i32 = 0;
  protocolId: u32 = 0;
  /** Offset (from the frame start) of the first info block. */
  infoStart: u32 = 0;
  /** Offset of the payload (end of header data and padding). */
  payloadStart: u32 = 0;
}

/**
 * Reads the fixed header and the header data up to the info blocks. `r` spans the whole frame.
 * Transforms (zlib, snappy, hmac) change the payload's bytes: such frames are Unsupported.
 */
export function readHeaderData(r: ThriftReader, frameLength: u32, info: HeaderInfo): void {
  r.skipBytes(4);
  if (r.u16() != HEADER_MAGIC && r.ok) { r.fail(DecodeError.Malformed, "bad THeader magic"); return; }
  info.flags = r.u16();
  info.seqid = r.i32();
  const dataBytes = r.u16() * 4;
  if (!r.ok) return;
  info.payloadStart = HEADER_FIXED_BYTES + dataBytes;
  if (dataBytes == 0 || info.payloadStart > frameLength) { r.fail(DecodeError.Malformed, "THeader header size outside the frame"); return; }
  // Varints inside the header data must not run into the payload.
  r.length = info.payloadStart;
  info.protocolId = <u32>r.varint(5);
  const transforms = r.varint(5);
  if (!r.ok) { r.fail(DecodeError.Malformed, "THeader header data truncated"); return; }
  if (transforms != 0) { r.fail(DecodeError.Unsupported, "THeader transforms are not supported"); return; }
  info.infoStart = r.pos;
}

/** Walks the key/value headers of a THeader frame, in wire order, as spans into the frame. */
@unmanaged
export class HeaderEntries {
  private r: ThriftReader = new ThriftReader();
  private left: u32 = 0;
  keyPtr: usize = 0;
  keyLen: u32 = 0;
  valuePtr: usize = 0;
  valueLen: u32 = 0;
  /** After the walk: where info blocks this walk does not understand begin (payloadStart if none). */
  tailStart: u32 = 0;
  /** Total of key/value pairs announced so far. */
  announced: u32 = 0;

  /** `frame` is the frame start; the info blocks are [infoStart, payloadStart). */
  start(frame: usize, info: HeaderInfo): HeaderEntries {
    this.r.start(frame, info.payloadStart, u32.MAX_VALUE);
    this.r.pos = info.infoStart;
    this.left = 0;
    this.tailStart = info.payloadStart;
    this.announced = 0;
    return this;
  }

  get error(): DecodeError { return this.r.error; }
  get detail(): string { return this.r.detail; }

  /** Moves to the next key/value; false at the end of the understood blocks or on an error. */
  next(): bool {
    const r = this.r;
    while (this.left == 0) {
      if (r.remaining() == 0) return false;
      const at = r.pos;
      const id = r.varint(5);
      if (!r.ok) return this.truncated();
      if (id != HEADER_INFO_KEYVALUE) {
        // 0 is padding: nothing follows. Any other id is a block this reader does not know.
        if (id != 0) this.tailStart = at;
        return false;
      }
      this.left = r.size32();
      if (!r.ok) return this.truncated();
      this.announced += this.left;
    }
    this.left--;
    this.keyLen = r.size32();
    this.keyPtr = r.ptrAt(r.pos);
    r.skipBytes(this.keyLen);
    this.valueLen = r.size32();
    this.valuePtr = r.ptrAt(r.pos);
    r.skipBytes(this.valueLen);
    return r.ok || this.truncated();
  }

  private truncated(): bool {
    this.r.fail(DecodeError.Malformed, "THeader key/value runs past the header data");
    return false;
  }
}

/** Writes LENGTH..HEADER SIZE with placeholders for the two sizes; returns the frame's start offset. */
export function beginHeaderFrame(out: ByteWriter, flags: u32, seqid: i32, protocolId: u32): u32 {
  const start = out.length;
  out.u32(0);
  out.u16(HEADER_MAGIC);
  out.u16(flags);
  out.i32(seqid);
  out.u16(0);
  out.uvarint(protocolId);
  out.uvarint(0); // no transforms
  return start;
}

/** Writes one varint-length-prefixed header string; false if Envoy could not read it back. */
export function writeHeaderString(out: ByteWriter, ptr: usize, len: u32): bool {
  if (len > HEADER_MAX_STRING_BYTES) return false;
  out.uvarint(len);
  out.bytes(ptr, len);
  return true;
}

/** Pads the header data and fills in HEADER SIZE; false when the data is too large for Envoy. */
export function endHeaderData(out: ByteWriter, start: u32): bool {
  const data = out.length - start - HEADER_FIXED_BYTES;
  const padding: u32 = 4 - (data % 4);
  for (let i: u32 = 0; i < padding; i++) out.u8(0);
  const padded = data + padding;
  if (padded > HEADER_MAX_DATA_BYTES) return false;
  store<u16>(out.ptr + start + 12, bswap<u16>(<u16>(padded / 4)));
  return true;
}

/** Fills in LENGTH once the payload is written. */
export function endHeaderFrame(out: ByteWriter, start: u32): void {
  out.patchU32(start, out.length - start - 4);
}
