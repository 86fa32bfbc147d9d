// TApplicationException, the error every Thrift client surfaces for a message of type EXCEPTION:
// struct { 1: string message, 2: i32 type } (lib/cpp/src/thrift/TApplicationException.cpp).
import { ByteWriter } from "../bytes";
import { ErrorKind } from "../codec";
import { AppExceptionType, CType, Protocol, TType } from "./wire";

/**
 * The TApplicationException type for each reason Meltemi rejects a request. Thrift has no status for
 * policy decisions, so the types follow what Envoy's thrift_proxy sends for the same situations
 * (router.cc, ratelimit.cc):
 * - OverLimit  -> INTERNAL_ERROR (6): Envoy's thrift rate_limit filter answers "over limit" with it.
 * - FaultAbort -> INTERNAL_ERROR (6): an injected fault stands for a failing server.
 * - NoRoute    -> UNKNOWN_METHOD (1): Envoy's router answers "no route for method" with it.
 * - BadRequest -> PROTOCOL_ERROR (7): the request could not be handled as sent.
 * - Unauthorized -> UNKNOWN (0): no type means "denied"; the message says why.
 */
export function appExceptionTypeOf(kind: ErrorKind): AppExceptionType {
  switch (kind) {
    case ErrorKind.OverLimit: return AppExceptionType.INTERNAL_ERROR;
    case ErrorKind.FaultAbort: return AppExceptionType.INTERNAL_ERROR;
    case ErrorKind.NoRoute: return AppExceptionType.UNKNOWN_METHOD;
    case ErrorKind.BadRequest: return AppExceptionType.PROTOCOL_ERROR;
    default: return AppExceptionType.UNKNOWN;
  }
}

/** Writes the exception struct (fields in id order, as the Apache libraries do). */
export function writeAppException(out: ByteWriter, protocol: Protocol, message: string, type: AppExceptionType): void {
  const messageBytes = <u32>String.UTF8.byteLength(message, false);
  if (protocol == Protocol.Compact) {
    // Field header: (id delta << 4) | compact type; i32 as a zigzag varint.
    out.u8((1 << 4) | CType.BINARY);
    out.uvarint(messageBytes);
    out.utf8(message);
    out.u8((1 << 4) | CType.I32);
    const t = <i32>type;
    out.uvarint(<u64><u32>((t << 1) ^ (t >> 31)));
  } else {
    out.u8(TType.STRING);
    out.u16(1);
    out.u32(messageBytes);
    out.utf8(message);
    out.u8(TType.I32);
    out.u16(2);
    out.i32(<i32>type);
  }
  out.u8(TType.STOP);
}
