// The Thrift message header ("message begin": name, type, sequence id) in the binary (strict and
// non-strict) and compact protocols: reading it where a message starts, and writing it.
import { ByteWriter } from "../bytes";
import { DecodeError } from "../codec";
import { ThriftReader } from "./reader";
import {
  BINARY_VERSION_1, BINARY_VERSION_MASK, COMPACT_PROTOCOL_ID, COMPACT_VERSION, COMPACT_VERSION_MASK,
  MessageType, Protocol,
} from "./wire";

@unmanaged
export class MessageHeader {
  /** The method name as sent, a span into the frame ("Service:method" when multiplexed). */
  namePtr: usize = 0;
  nameLen: u32 = 0;
  type: MessageType = MessageType.Call;
  seqid: i32 = 0;
  /** Where the message's struct starts, relative to the reader's base. */
  bodyOffset: u32 = 0;
}

/** The protocol of a message from its first byte: 0x80 strict binary, 0x82 compact, else non-strict binary. */
export function protocolAt(firstByte: u32): Protocol {
  if (firstByte == 0x80) return Protocol.Binary;
  if (firstByte == COMPACT_PROTOCOL_ID) return Protocol.Compact;
  return Protocol.LaxBinary;
}

/** Reads the message header at r.pos into h. Short input leaves r.short; wrong bytes set r.error. */
export function readMessageHeader(r: ThriftReader, protocol: Protocol, maxNameBytes: u32, h: MessageHeader): void {
  let type: u32 = 0;
  if (protocol == Protocol.Compact) {
    // 0x82, (type << 5) | version, varint32 seqid, varint32 name length, name.
    if (r.u8() != COMPACT_PROTOCOL_ID && r.ok) { r.fail(DecodeError.Malformed, "bad compact protocol id"); return; }
    const vt = r.u8();
    if (!r.ok) return;
    if ((vt & COMPACT_VERSION_MASK) != COMPACT_VERSION) { r.fail(DecodeError.Malformed, "bad compact protocol version"); return; }
    type = (vt >> 5) & 0x07;
    h.seqid = <i32><u32>r.varint(5);
    readName(r, r.size32(), maxNameBytes, h);
  } else if (protocol == Protocol.Binary) {
    // i32 (0x8001 << 16) | type, i32 name length, name, i32 seqid.
    const version = r.u32();
    if (!r.ok) return;
    if ((version & BINARY_VERSION_MASK) != BINARY_VERSION_1) { r.fail(DecodeError.Malformed, "bad binary protocol version"); return; }
    type = version & 0xff;
    readName(r, r.sizeBE(), maxNameBytes, h);
    h.seqid = r.i32();
  } else {
    // Non-strict: i32 name length, name, i8 type, i32 seqid.
    readName(r, r.sizeBE(), maxNameBytes, h);
    type = r.u8();
    h.seqid = r.i32();
  }
  if (!r.ok) return;
  if (type < <u32>MessageType.Call || type > <u32>MessageType.Oneway) { r.fail(DecodeError.Malformed, "unknown message type"); return; }
  h.type = <MessageType>type;
  h.bodyOffset = r.pos;
}

function readName(r: ThriftReader, len: u32, maxNameBytes: u32, h: MessageHeader): void {
  if (!r.ok) return;
  if (len > maxNameBytes) { r.fail(DecodeError.MetadataValueTooLarge, "method name longer than the metadata value limit"); return; }
  const at = r.pos;
  if (!r.skipBytes(len)) return;
  h.namePtr = r.ptrAt(at);
  h.nameLen = len;
}

/** Writes a message header in `protocol`. */
export function writeMessageHeader(out: ByteWriter, protocol: Protocol, namePtr: usize, nameLen: u32, type: MessageType, seqid: i32): void {
  if (protocol == Protocol.Compact) {
    out.u8(COMPACT_PROTOCOL_ID);
    out.u8((<u32>type << 5) | COMPACT_VERSION);
    out.uvarint(<u64><u32>seqid);
    out.uvarint(nameLen);
    out.bytes(namePtr, nameLen);
  } else if (protocol == Protocol.Binary) {
    out.u32(BINARY_VERSION_1 | <u32>type);
    out.u32(nameLen);
    out.bytes(namePtr, nameLen);
    out.i32(seqid);
  } else {
    out.u32(nameLen);
    out.bytes(namePtr, nameLen);
    out.u8(<u32>type);
    out.i32(seqid);
  }
}
