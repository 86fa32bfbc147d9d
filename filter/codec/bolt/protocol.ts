// SOFA Bolt's RpcProtocol (protocol code 1), as sofa-bolt writes and reads it
// (com.alipay.remoting.rpc.protocol.RpcCommandEncoder / RpcCommandDecoder, RpcProtocol):
//
// request (22 bytes):  proto u8 | type u8 | cmdcode u16 | ver2 u8 | requestId i32 | codec u8 |
//                      timeout i32 | classLen u16 | headerLen u16 | contentLen i32
// response (20 bytes): proto u8 | type u8 | cmdcode u16 | ver2 u8 | requestId i32 | codec u8 |
//                      respStatus u16 | classLen u16 | headerLen u16 | contentLen i32
// then the class name (the request/response object's Java class), the header, the content.
// Big-endian throughout. Bolt's RpcProtocolV2 (code 2: extra version, switch and CRC bytes) is not
// implemented.

export const PROTOCOL_V1: u32 = 1;
export const PROTOCOL_V2: u32 = 2;

export const REQUEST_HEADER_SIZE: u32 = 22;
export const RESPONSE_HEADER_SIZE: u32 = 20;

// RpcCommandType
export const TYPE_RESPONSE: u32 = 0;
export const TYPE_REQUEST: u32 = 1;
export const TYPE_REQUEST_ONEWAY: u32 = 2;

// CommonCommandCode / RpcCommandCode
export const CMD_HEARTBEAT: u32 = 0;
export const CMD_REQUEST: u32 = 1;
export const CMD_RESPONSE: u32 = 2;

/** RpcCommand's default command version (ver2). */
export const COMMAND_VERSION: u32 = 1;
/** SerializerManager.Hessian2: the serializer id of the content Meltemi writes. */
export const SERIALIZER_HESSIAN2: u32 = 1;

/** Offsets shared by both layouts. */
export const OFFSET_CMDCODE: u32 = 2;
export const OFFSET_VER2: u32 = 4;
export const OFFSET_REQUEST_ID: u32 = 5;
export const OFFSET_CODEC: u32 = 9;
/** Where classLen starts: after the timeout (request) or the status (response). */
export const REQUEST_LENGTHS: u32 = 14;
export const RESPONSE_LENGTHS: u32 = 12;

/** ResponseStatus.getValue(). */
export enum Status {
  SUCCESS = 0x0000,
  ERROR = 0x0001,
  SERVER_EXCEPTION = 0x0002,
  UNKNOWN = 0x0003,
  SERVER_THREADPOOL_BUSY = 0x0004,
  ERROR_COMM = 0x0005,
  NO_PROCESSOR = 0x0006,
  TIMEOUT = 0x0007,
  CLIENT_SEND_ERROR = 0x0008,
  CODEC_EXCEPTION = 0x0009,
  CONNECTION_CLOSED = 0x0010,
  SERVER_SERIAL_EXCEPTION = 0x0011,
  SERVER_DESERIAL_EXCEPTION = 0x0012,
}

/** Java reads classLen and headerLen as signed shorts: a longer section is negative to a Bolt peer. */
export const MAX_SECTION: u32 = 0x7fff;
/** contentLen is a signed int. */
export const MAX_CONTENT: u32 = 0x7fffffff;

@inline export function headerSize(type: u32): u32 { return type == TYPE_RESPONSE ? RESPONSE_HEADER_SIZE : REQUEST_HEADER_SIZE; }
@inline export function lengthsAt(type: u32): u32 { return type == TYPE_RESPONSE ? RESPONSE_LENGTHS : REQUEST_LENGTHS; }
