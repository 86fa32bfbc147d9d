// The Dubbo 2 protocol ("dubbo://"): a 16-byte header, then a body serialized with the serialization
// the header names. Layout and constants from Apache Dubbo's ExchangeCodec, DubboCodec and Response
// (dubbo-remoting / dubbo-rpc-dubbo, 3.3.6):
//
//   0      2      3        4       12            16
//   | magic | flag | status | request id | body length | body ...
//   magic 0xdabb; flag: 0x80 request, 0x40 two-way, 0x20 event, low 5 bits serialization id;
//   status: response status (unused in requests); request id: 64-bit; body length: 32-bit signed.
export const HEADER_SIZE: u32 = 16;
export const MAGIC: u32 = 0xdabb;
export const MAGIC_HIGH: u32 = 0xda;

export const FLAG_REQUEST: u32 = 0x80;
export const FLAG_TWO_WAY: u32 = 0x40;
export const FLAG_EVENT: u32 = 0x20;
export const SERIALIZATION_MASK: u32 = 0x1f;
/** Serialization id of hessian2 (Hessian2Serialization.getContentTypeId). */
export const SERIALIZATION_HESSIAN2: u32 = 2;

/** Response status byte (org.apache.dubbo.remoting.exchange.Response). */
export namespace Status {
  export const OK: u32 = 20;
  export const CLIENT_TIMEOUT: u32 = 30;
  export const SERVER_TIMEOUT: u32 = 31;
  export const BAD_REQUEST: u32 = 40;
  export const BAD_RESPONSE: u32 = 50;
  export const SERVICE_NOT_FOUND: u32 = 60;
  export const SERVICE_ERROR: u32 = 70;
  export const SERVER_ERROR: u32 = 80;
  export const CLIENT_ERROR: u32 = 90;
  export const SERVER_THREADPOOL_EXHAUSTED_ERROR: u32 = 100;
}

/** First value of an OK response body (DubboCodec.RESPONSE_*), a hessian2 int. */
export namespace ResponseFlag {
  export const WITH_EXCEPTION: i32 = 0;
  export const VALUE: i32 = 1;
  export const NULL_VALUE: i32 = 2;
  export const WITH_EXCEPTION_WITH_ATTACHMENTS: i32 = 3;
  export const VALUE_WITH_ATTACHMENTS: i32 = 4;
  export const NULL_VALUE_WITH_ATTACHMENTS: i32 = 5;
}

/** The response flag that also carries attachments (0->3, 1->4, 2->5). */
@inline export function withAttachments(flag: i32): i32 { return flag < 3 ? flag + 3 : flag; }
@inline export function hasAttachments(flag: i32): bool { return flag >= 3; }
@inline export function isException(flag: i32): bool { return flag == 0 || flag == 3; }
