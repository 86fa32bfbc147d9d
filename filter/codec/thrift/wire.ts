// Thrift wire constants. Sources: Apache Thrift doc/specs/thrift-binary-protocol.md,
// thrift-compact-protocol.md, HeaderFormat.md, and lib/cpp (TApplicationException.h, THeaderTransport.h).

/** How messages are delimited on a connection. */
export enum Transport {
  /** Messages back to back; the end of one is found by walking its struct ("buffered" in most libraries). */
  Unframed = 0,
  /** A 4-byte big-endian length, then the message. */
  Framed = 1,
  /** THeader: a framed header with flags, sequence number and key/value headers, then the message. */
  Header = 2,
}

/** How a message is encoded. */
export enum Protocol {
  /** Binary with the version word 0x8001 (strict; what every library writes by default). */
  Binary = 0,
  /** The old non-strict binary message header: name length first, no version word. */
  LaxBinary = 1,
  Compact = 2,
}

export enum MessageType { Call = 1, Reply = 2, Exception = 3, Oneway = 4 }

/** Field types of the binary protocol (TType in every library). */
export enum TType {
  STOP = 0, VOID = 1, BOOL = 2, BYTE = 3, DOUBLE = 4, I16 = 6, I32 = 8, I64 = 10,
  STRING = 11, STRUCT = 12, MAP = 13, SET = 14, LIST = 15, UUID = 16,
}

/** Field types of the compact protocol (the low nibble of a field header). */
export enum CType {
  STOP = 0, BOOLEAN_TRUE = 1, BOOLEAN_FALSE = 2, BYTE = 3, I16 = 4, I32 = 5, I64 = 6,
  DOUBLE = 7, BINARY = 8, LIST = 9, SET = 10, MAP = 11, STRUCT = 12, UUID = 13,
}

/** TApplicationException.type (lib/cpp/src/thrift/TApplicationException.h). */
export enum AppExceptionType {
  UNKNOWN = 0, UNKNOWN_METHOD = 1, INVALID_MESSAGE_TYPE = 2, WRONG_METHOD_NAME = 3,
  BAD_SEQUENCE_ID = 4, MISSING_RESULT = 5, INTERNAL_ERROR = 6, PROTOCOL_ERROR = 7,
  INVALID_TRANSFORM = 8, INVALID_PROTOCOL = 9, UNSUPPORTED_CLIENT_TYPE = 10,
}

// Binary protocol: the first word of a strict message is 0x8001 (version 1), an unused byte, the type.
export const BINARY_VERSION_1: u32 = 0x80010000;
export const BINARY_VERSION_MASK: u32 = 0xffff0000;

// Compact protocol: protocol id byte, then (type << 5) | version.
export const COMPACT_PROTOCOL_ID: u32 = 0x82;
export const COMPACT_VERSION: u32 = 1;
export const COMPACT_VERSION_MASK: u32 = 0x1f;

// THeader (HeaderFormat.md): LENGTH(4) MAGIC(2) FLAGS(2) SEQID(4) HEADER_SIZE(2, in 4-byte words),
// header data from offset 14.
export const HEADER_MAGIC: u32 = 0x0fff;
export const HEADER_FIXED_BYTES: u32 = 14;
/** The spec's largest frame (just under HTTP's magic, so the transports stay distinguishable). */
export const HEADER_MAX_FRAME: u32 = 0x3fffffff;
/** Envoy's thrift_proxy rejects header data above 64 KiB (header_transport_impl.cc, MaxHeadersSize). */
export const HEADER_MAX_DATA_BYTES: u32 = 65536;
/** Envoy reads header string lengths as varint i16 (drainVarString). */
export const HEADER_MAX_STRING_BYTES: u32 = 0x7fff;
/** Protocol ids inside a THeader (lib/cpp/src/thrift/protocol/TProtocolTypes.h). */
export const HEADER_PROTOCOL_BINARY: u32 = 0;
export const HEADER_PROTOCOL_JSON: u32 = 1;
export const HEADER_PROTOCOL_COMPACT: u32 = 2;
/** Info block id of key/value headers; 0 is padding, other ids end what a reader understands. */
export const HEADER_INFO_KEYVALUE: u32 = 1;

// Metadata.codecFlags of a Thrift frame: bits 0-1 the transport, bits 2-3 the protocol.
@inline export function wireFlags(t: Transport, p: Protocol): u32 { return <u32>t | (<u32>p << 2); }
@inline export function transportOf(flags: u32): Transport { return <Transport>(flags & 3); }
@inline export function protocolOf(flags: u32): Protocol { return <Protocol>((flags >> 2) & 3); }
