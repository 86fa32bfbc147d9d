// A ByteReader that tells "not enough bytes yet" from "these bytes are wrong", which Thrift needs:
// an unframed message has no length, so running out of bytes means NeedMore while a bad type id, a
// negative size or an overlong varint means the stream is broken.
import { ByteReader } from "../bytes";
import { DecodeError } from "../codec";

export class ThriftReader extends ByteReader {
  /** Set (with ok = false) when the bytes are wrong rather than short. */
  error: DecodeError = DecodeError.None;
  detail: string = "";
  /** Offset past which a message may not extend (Limits.maxFrameBytes for unframed messages). */
  limit: u32 = u32.MAX_VALUE;

  start(base: usize, length: u32, limit: u32): ThriftReader {
    this.reset(base, length);
    this.error = DecodeError.None;
    this.detail = "";
    this.limit = limit;
    return this;
  }

  /** True when reading stopped only because the bytes ran out. */
  @inline get short(): bool { return !this.ok && this.error == DecodeError.None; }

  fail(error: DecodeError, detail: string): void {
    if (this.error == DecodeError.None) {
      this.error = error;
      this.detail = detail;
    }
    this.ok = false;
  }

  /** Skips n bytes; a skip past `limit` is FrameTooLarge at once (no waiting for bytes that will be refused). */
  skipBytes(n: u64): bool {
    if (!this.ok) return false;
    if (<u64>this.pos + n > <u64>this.limit) { this.fail(DecodeError.FrameTooLarge, "message longer than the frame limit"); return false; }
    this.take(<u32>n);
    return this.ok;
  }

  /** Unsigned LEB128 varint of at most maxBytes; a longer one is Malformed (ByteReader.uvarint cannot tell). */
  varint(maxBytes: u32): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    for (let i: u32 = 0; i < maxBytes; i++) {
      const b = this.u8();
      if (!this.ok) return 0;
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
    this.fail(DecodeError.Malformed, "varint too long");
    return 0;
  }

  /** A varint32 that must fit in a non-negative i32 (sizes and lengths). */
  size32(what: string): u32 {
    const v = this.varint(5);
    if (this.ok && v > <u64>i32.MAX_VALUE) { this.fail(DecodeError.Malformed, what); return 0; }
    return <u32>v;
  }

  /** A big-endian i32 that must be non-negative (binary protocol sizes and lengths). */
  sizeBE(what: string): u32 {
    const v = this.i32();
    if (this.ok && v < 0) { this.fail(DecodeError.Malformed, what); return 0; }
    return <u32>v;
  }
}
