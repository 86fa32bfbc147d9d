// The cursor the Thrift codec reads with. Like ByteReader (bytes.ts) it never reads outside
// [base, base+length) and never aborts, and it also tells "not enough bytes yet" from "these bytes are
// wrong", which Thrift needs: an unframed message has no length, so running out of bytes means
// NeedMore, while a bad type id, a negative size or an overlong varint means the stream is broken.
//
// It is @unmanaged and not a ByteReader subclass on purpose: under the incremental GC the filter used
// to be built with, every call that held a managed object paid shadow-stack traffic, and this reader is
// called per byte field. Measured on the message header decode (asc -O3, incremental runtime): managed
// reader and layouts ~290 ns per framed call, unmanaged ~170 ns. (The filter now uses the minimal
// runtime, without a shadow stack: docs/performance.md.) Unmanaged objects are never freed, so the codec
// allocates its readers once per VM (codec.ts); `detail` only ever holds string literals (static data).
import { decodeUvarint, uvarintUsed } from "../bytes";
import { DecodeError } from "../codec";

@unmanaged
export class ThriftReader {
  base: usize = 0;
  length: u32 = 0;
  pos: u32 = 0;
  /** False once a read went past the end or the bytes were wrong. */
  ok: bool = true;
  /** Set (with ok = false) when the bytes are wrong rather than short. */
  error: DecodeError = DecodeError.None;
  detail: string = "";
  /** Offset past which a message may not extend (Limits.maxFrameBytes for unframed messages). */
  limit: u32 = u32.MAX_VALUE;

  start(base: usize, length: u32, limit: u32): ThriftReader {
    this.base = base;
    this.length = length;
    this.pos = 0;
    this.ok = true;
    this.error = DecodeError.None;
    this.limit = limit;
    return this;
  }

  /** True when reading stopped only because the bytes ran out. */
  @inline get short(): bool { return !this.ok && this.error == DecodeError.None; }

  @inline remaining(): u32 { return this.pos <= this.length ? this.length - this.pos : 0; }

  @inline ptrAt(offset: u32): usize { return this.base + offset; }

  /** Reserves n bytes and returns their offset, or fails (ok = false) when fewer remain. */
  @inline take(n: u32): u32 {
    if (!this.ok || n > this.remaining()) { this.ok = false; return 0; }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): u32 { const at = this.take(1); return this.ok ? <u32>load<u8>(this.base + at) : 0; }
  u16(): u32 { const at = this.take(2); return this.ok ? <u32>bswap<u16>(load<u16>(this.base + at)) : 0; }
  u32(): u32 { const at = this.take(4); return this.ok ? bswap<u32>(load<u32>(this.base + at)) : 0; }
  @inline i32(): i32 { return <i32>this.u32(); }

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

  /** Unsigned LEB128 varint of at most maxBytes: running out of bytes is short, a longer one Malformed. */
  varint(maxBytes: u32): u64 {
    if (!this.ok) return 0;
    const v = decodeUvarint(this.base + this.pos, this.remaining(), maxBytes);
    if (uvarintUsed < 0) { this.fail(DecodeError.Malformed, "varint too long"); return 0; }
    if (uvarintUsed == 0) { this.ok = false; return 0; }
    this.pos += <u32>uvarintUsed;
    return v;
  }

  /** A varint32 size or length, which must fit in a non-negative i32. */
  size32(): u32 {
    const v = this.varint(5);
    if (this.ok && v > <u64>i32.MAX_VALUE) { this.fail(DecodeError.Malformed, "negative size or length"); return 0; }
    return <u32>v;
  }

  /** A big-endian i32 size or length (binary protocol), which must be non-negative. */
  sizeBE(): u32 {
    const v = this.i32();
    if (this.ok && v < 0) { this.fail(DecodeError.Malformed, "negative size or length"); return 0; }
    return <u32>v;
  }
}
