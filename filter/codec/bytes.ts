// Bounds-checked access to wire bytes, shared by every codec.
//
// Readers never abort: a read past the end sets `ok = false` and returns 0, and the codec turns that
// into NeedMore (the frame is incomplete) or a typed error. That is how a malformed frame stays a log
// line and a counter instead of a trap of the VM. Memory is unmanaged (no GC objects per request).

/**
 * What the last decodeUvarint used: its byte count, 0 when the input ended first (wait for more), or
 * -1 when the varint is longer than allowed (the bytes are wrong).
 */
export let uvarintUsed: i32 = 0;

/** Decodes an unsigned LEB128 varint of at most `maxBytes` from [ptr, ptr+available); see uvarintUsed. */
export function decodeUvarint(ptr: usize, available: u32, maxBytes: u32): u64 {
  let result: u64 = 0;
  let shift: u64 = 0;
  for (let i: u32 = 0; i < maxBytes; i++) {
    if (i >= available) { uvarintUsed = 0; return 0; }
    const b = <u32>load<u8>(ptr + i);
    result |= (<u64>(b & 0x7f)) << shift;
    if ((b & 0x80) == 0) { uvarintUsed = <i32>i + 1; return result; }
    shift += 7;
  }
  uvarintUsed = -1;
  return 0;
}

/** The capacity a ByteWriter takes for `need` bytes: at least 256, doubling from `from`. */
@inline function capacityFor(need: u32, from: u32): u32 {
  let cap: u32 = from < 256 ? 256 : from;
  while (cap < need) cap <<= 1;
  return cap;
}

/** A cursor over [base, base+length). Reads are big-endian unless named `...LE`. */
export class ByteReader {
  base: usize = 0;
  length: u32 = 0;
  pos: u32 = 0;
  /** False once any read went past the end. */
  ok: bool = true;

  reset(base: usize, length: u32): ByteReader {
    this.base = base;
    this.length = length;
    this.pos = 0;
    this.ok = true;
    return this;
  }

  @inline remaining(): u32 { return this.pos <= this.length ? this.length - this.pos : 0; }

  /** Reserves n bytes and returns their offset, or fails (ok = false) when fewer remain. */
  @inline take(n: u32): u32 {
    if (!this.ok || n > this.remaining()) { this.ok = false; return 0; }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  skip(n: u32): bool { this.take(n); return this.ok; }

  u8(): u32 { const at = this.take(1); return this.ok ? <u32>load<u8>(this.base + at) : 0; }
  u16(): u32 { const at = this.take(2); return this.ok ? <u32>bswap<u16>(load<u16>(this.base + at)) : 0; }
  u32(): u32 { const at = this.take(4); return this.ok ? bswap<u32>(load<u32>(this.base + at)) : 0; }
  u64(): u64 { const at = this.take(8); return this.ok ? bswap<u64>(load<u64>(this.base + at)) : 0; }
  i8(): i32 { return <i32><i8>this.u8(); }
  i16(): i32 { return <i32><i16>this.u16(); }
  i32(): i32 { return <i32>this.u32(); }
  i64(): i64 { return <i64>this.u64(); }
  f64(): f64 { return reinterpret<f64>(this.u64()); }

  /** Unsigned LEB128 varint of at most `maxBytes` bytes (ok = false when longer or truncated). */
  uvarint(maxBytes: u32 = 10): u64 {
    if (!this.ok) return 0;
    const v = decodeUvarint(this.base + this.pos, this.remaining(), maxBytes);
    if (uvarintUsed <= 0) { this.ok = false; return 0; }
    this.pos += <u32>uvarintUsed;
    return v;
  }

  /** Byte at absolute offset `at` without moving; 0 (and ok unchanged) past the end. */
  @inline peekAt(at: u32): u32 { return at < this.length ? <u32>load<u8>(this.base + at) : 0; }

  @inline ptrAt(offset: u32): usize { return this.base + offset; }
}

/** A growable unmanaged output buffer, reused across frames of a connection. */
export class ByteWriter {
  ptr: usize = 0;
  capacity: u32 = 0;
  length: u32 = 0;

  clear(): ByteWriter { this.length = 0; return this; }

  /** How much capacity ensure(extra) would add (0 when it fits): a caller can check a budget first. */
  growthFor(extra: u32): u32 {
    const need = this.length + extra;
    return need <= this.capacity ? 0 : capacityFor(need, this.capacity) - this.capacity;
  }

  ensure(extra: u32): void {
    const need = this.length + extra;
    if (need <= this.capacity) return;
    const cap = capacityFor(need, this.capacity);
    this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
    this.capacity = cap;
  }

  u8(v: u32): void { this.ensure(1); store<u8>(this.ptr + this.length, <u8>v); this.length += 1; }
  u16(v: u32): void { this.ensure(2); store<u16>(this.ptr + this.length, bswap<u16>(<u16>v)); this.length += 2; }
  u32(v: u32): void { this.ensure(4); store<u32>(this.ptr + this.length, bswap<u32>(v)); this.length += 4; }
  u64(v: u64): void { this.ensure(8); store<u64>(this.ptr + this.length, bswap<u64>(v)); this.length += 8; }
  i32(v: i32): void { this.u32(<u32>v); }
  i64(v: i64): void { this.u64(<u64>v); }

  uvarint(v: u64): void {
    while (v >= 0x80) { this.u8(<u32>(v & 0x7f) | 0x80); v >>= 7; }
    this.u8(<u32>v);
  }

  bytes(src: usize, n: u32): void {
    this.ensure(n);
    memory.copy(this.ptr + this.length, src, n);
    this.length += n;
  }

  /** Appends a string as UTF-8; returns the number of bytes written. */
  utf8(s: string): u32 {
    const n = <u32>String.UTF8.byteLength(s, false);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.ptr + this.length, false);
    this.length += n;
    return n;
  }

  /** Overwrites a big-endian u32 already written at `at` (for length prefixes known only at the end). */
  patchU32(at: u32, v: u32): void { store<u32>(this.ptr + at, bswap<u32>(v)); }

  /**
   * Gives back capacity over `keep` bytes when it holds at most `keep` bytes (its content kept): a
   * buffer that once took a large read does not keep that size for the life of its owner.
   */
  shrink(keep: u32): void {
    if (this.capacity <= keep || this.length > keep) return;
    if (this.length == 0) { this.free(); return; }
    const cap = capacityFor(this.length, 0);
    this.ptr = heap.realloc(this.ptr, cap);
    this.capacity = cap;
  }

  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
    this.length = 0;
  }
}

/** Compares [ptr, ptr+len) with the UTF-8 bytes of an ArrayBuffer (pre-encoded config strings). */
/**
 * memory.compare(a, b, n) == 0 as one shared function: memory.compare is inlined where it is written
 * (~200 bytes each), and the module had ten of them.
 */
export function sameMemory(a: usize, b: usize, n: usize): bool {
  return memory.compare(a, b, n) == 0;
}

export function bytesEqual(ptr: usize, len: u32, utf8: ArrayBuffer): bool {
  if (<u32>utf8.byteLength != len) return false;
  return sameMemory(ptr, changetype<usize>(utf8), len);
}

/** Pre-encodes a constant for byte comparisons on the hot path. */
export function utf8Of(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}
