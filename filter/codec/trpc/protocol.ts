// The tRPC wire (trpc-go v1.0.3 `codec.go`, the framework's `trpc` protocol, and trpc-protocol's
// `trpc.proto`, Go package trpc.group/trpc/trpc-protocol/pb/go/trpc v1.0.0).
//
// A frame is a 16-byte frame head, big-endian, then a protobuf header (RequestProtocol from the
// client, ResponseProtocol from the server), then the body, then an attachment of the header's
// attachment_size bytes:
//
//   magic u16 (0x0930) | data frame type u8 (0 unary, 1 stream) | stream frame type u8 |
//   total length u32 (the whole frame, head included) | header length u16 | stream id u32 |
//   protocol version u8 (0 or 1) | reserved u8
//
// trpc-go's client writes protocol version 1 and the request id as stream id for unary calls; the
// protobuf header's request_id is what the client matches an answer on. The frame head does not say
// which way the frame goes: the same head carries requests and answers (Codec.decoding).

export const MAGIC: u32 = 0x0930;
export const MAGIC_HI: u32 = 0x09;
export const MAGIC_LO: u32 = 0x30;
export const FRAME_HEAD_SIZE: u32 = 16;
export const OFFSET_FRAME_TYPE: usize = 2;
export const OFFSET_TOTAL_LEN: usize = 4;
export const OFFSET_HEADER_LEN: usize = 8;
export const OFFSET_STREAM_ID: usize = 10;
export const OFFSET_VERSION: usize = 14;
/** The header length is a u16 (trpc-go refuses to write a longer header: errHeadOverflowsUint16). */
export const MAX_HEADER_LEN: u32 = 0xffff;

/** TrpcDataFrameType. */
export const FRAME_UNARY: u32 = 0;
export const FRAME_STREAM: u32 = 1;
/** TrpcProtoVersion / the frame head's protocol version trpc-go writes (curProtocolVersion). */
export const PROTOCOL_VERSION: u32 = 1;

/** TrpcCallType. */
export const CALL_UNARY: u32 = 0;
export const CALL_ONEWAY: u32 = 1;

/** RequestProtocol field numbers. */
export namespace Req {
  export const VERSION: u32 = 1;
  export const CALL_TYPE: u32 = 2;
  export const REQUEST_ID: u32 = 3;
  export const TIMEOUT: u32 = 4;
  export const CALLER: u32 = 5;
  export const CALLEE: u32 = 6;
  export const FUNC: u32 = 7;
  export const MESSAGE_TYPE: u32 = 8;
  export const TRANS_INFO: u32 = 9;
  export const CONTENT_TYPE: u32 = 10;
  export const CONTENT_ENCODING: u32 = 11;
  export const ATTACHMENT_SIZE: u32 = 12;
}

/** ResponseProtocol field numbers. */
export namespace Rsp {
  export const VERSION: u32 = 1;
  export const CALL_TYPE: u32 = 2;
  export const REQUEST_ID: u32 = 3;
  export const RET: u32 = 4;
  export const FUNC_RET: u32 = 5;
  export const ERROR_MSG: u32 = 6;
  export const MESSAGE_TYPE: u32 = 7;
  export const TRANS_INFO: u32 = 8;
  export const CONTENT_TYPE: u32 = 9;
  export const CONTENT_ENCODING: u32 = 10;
  export const ATTACHMENT_SIZE: u32 = 12;
}

/** A trans_info map entry: map<string, bytes> on the wire is a repeated message {1 key, 2 value}. */
export const ENTRY_KEY: u32 = 1;
export const ENTRY_VALUE: u32 = 2;

/** TrpcRetCode values Meltemi answers with (trpc-go's errs package names them Ret...). */
export namespace Ret {
  export const SERVER_DECODE_ERR: i32 = 1;
  export const SERVER_NOFUNC_ERR: i32 = 12;
  export const SERVER_LIMITED_ERR: i32 = 23;
  export const SERVER_SYSTEM_ERR: i32 = 31;
  export const SERVER_AUTH_ERR: i32 = 41;
}
