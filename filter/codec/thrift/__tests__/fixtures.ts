// Byte fixtures for the Thrift codec's unit tests. Vectors written as hex are what real peers send:
// npm thrift 0.24 clients (Greeter.hello("bob"), seqid 1) and Envoy's HeaderTransportImpl tests.
import { ByteWriter } from "../../bytes";
import { Codec, DecodeStatus } from "../../codec";
import { Metadata } from "../../metadata";
import { FrameStream } from "../../stream";

export function hex(s: string): ByteWriter {
  const w = new ByteWriter();
  for (let i = 0; i + 1 < s.length; i += 2) w.u8(<u32>I32.parseInt(s.substr(i, 2), 16));
  return w;
}

export function toHex(ptr: usize, len: u32): string {
  let s = "";
  for (let i: u32 = 0; i < len; i++) {
    const b = load<u8>(ptr + i);
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

export function writerHex(w: ByteWriter): string { return toHex(w.ptr, w.length); }

/** A 4-byte big-endian length, then `payload`. */
export function framed(payload: ByteWriter): ByteWriter {
  const w = new ByteWriter();
  w.u32(payload.length);
  w.bytes(payload.ptr, payload.length);
  return w;
}

export function concat(a: ByteWriter, b: ByteWriter): ByteWriter {
  const w = new ByteWriter();
  w.bytes(a.ptr, a.length);
  w.bytes(b.ptr, b.length);
  return w;
}

// hello("bob"), seqid 1, as npm thrift writes it.
export const BINARY = "800100010000000568656c6c6f000000010b000100000003626f6200";
export const COMPACT = "8221010568656c6c6f1803626f6200";
// The same call in the old non-strict binary message header: name length, name, type byte, seqid.
export const LAX = "0000000568656c6c6f01000000010b000100000003626f6200";
// Envoy header_transport_impl_test.cc "Frame with headers" (what HeaderTransportImpl::encodeFrame
// writes for compact, seqid 10, headers key=value and ""=""), its "fake message" payload replaced by
// a compact call of "hello" with seqid 10 and no arguments.
export const ENVOY_THEADER_PREFIX = "0fff00000000000a0005" + "0200" + "0102" + "036b6579" + "0576616c7565" + "0000" + "00000000";
export const COMPACT_HELLO_10 = "82210a0568656c6c6f00";
export const ENVOY_THEADER = "00000028" + ENVOY_THEADER_PREFIX + COMPACT_HELLO_10;

/** Status and frame of one decode of [w.ptr, w.ptr + len). */
export function decodeN(codec: Codec, w: ByteWriter, len: u32, md: Metadata): DecodeStatus {
  md.reset();
  return codec.decode(w.ptr, len, md);
}

/** Feeds `w` to a FrameStream in pieces of `piece` bytes; returns the frames' "kind/id/length" and the error. */
export function streamSummary(codec: Codec, w: ByteWriter, piece: u32): string {
  const stream = new FrameStream();
  const md = new Metadata();
  let out = "";
  for (let at: u32 = 0; at < w.length; at += piece) {
    const n = w.length - at < piece ? w.length - at : piece;
    stream.push(w.ptr + at, n);
    while (true) {
      const status = stream.next(codec, md);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) { stream.pending.free(); return out + "invalid"; }
      out += (<i32>md.kind).toString() + "/" + md.requestId.toString() + "/" + md.frameLength.toString() + ";";
      stream.consume(md.frameLength);
    }
  }
  out += "pending=" + stream.buffered.toString();
  stream.pending.free();
  return out;
}
