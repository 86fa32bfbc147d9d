// The protobuf wire format, read and written by hand (no generated code, no allocation in reading):
// tags, varints and length-delimited fields (protobuf.dev "Encoding"). Shared by every protobuf
// message the filter touches: tRPC's RequestProtocol/ResponseProtocol headers (trpc/) and the rate
// limit service's messages (filter/global/rls_proto.ts).
import { ByteWriter } from "./bytes";

export const WIRE_VARINT: u32 = 0;
export const WIRE_I64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_I32: u32 = 5;

export function varintSize(v: u64): u32 {
  let n: u32 = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

/**
 * A bounded reader over [base, end): a malformed input (a varint over 10 bytes, a length past the
 * end, an unknown wire type) sets ok = false and never traps. Reusable (reset), so decoding
 * allocates nothing.
 */
export class ProtoReader {
  pos: usize;
  ok: bool = true;
  /** After len(): the field's bounds [lenStart, lenEnd). */
  lenStart: usize = 0;
  lenEnd: usize = 0;
  constructor(public base: usize = 0, public end: usize = 0) { this.pos = base; }

  reset(base: usize, end: usize): ProtoReader {
    this.base = base;
    this.end = end;
    this.pos = base;
    this.ok = true;
    return this;
  }

  get done(): bool { return !this.ok || this.pos >= this.end; }

  varint(): u64 {
    let v: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) { this.ok = false; return 0; }
      const b = <u64>load<u8>(this.pos++);
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    this.ok = false;
    return 0;
  }

  /**
   * A field's key (field number << 3 | wire type); 0 and ok = false for one no protobuf parser accepts
   * (over 32 bits, field number 0).
   */
  key(): u32 {
    const k = this.varint();
    if (!this.ok || k > 0xffffffff || k >> 3 == 0) { this.ok = false; return 0; }
    return <u32>k;
  }

  /** After a LEN tag: the field's bounds into lenStart/lenEnd; false when it overruns the message. */
  len(): bool {
    const n = this.varint();
    if (!this.ok || n > <u64>(this.end - this.pos)) { this.ok = false; return false; }
    this.lenStart = this.pos;
    this.lenEnd = this.pos + <usize>n;
    this.pos = this.lenEnd;
    return true;
  }

  skip(wire: u32): void {
    if (wire == WIRE_VARINT) this.varint();
    else if (wire == WIRE_LEN) this.len();
    else if (wire == WIRE_I64) this.fixed(8);
    else if (wire == WIRE_I32) this.fixed(4);
    else this.ok = false;
  }

  private fixed(n: usize): void {
    if (this.end - this.pos < n) { this.ok = false; return; }
    this.pos += n;
  }
}

/** Appends a tag. */
export function writeTag(out: ByteWriter, field: u32, wire: u32): void {
  out.uvarint((<u64>field << 3) | wire);
}

/** Appends a varint field (proto3: callers leave zero values out). */
export function writeVarintField(out: ByteWriter, field: u32, v: u64): void {
  writeTag(out, field, WIRE_VARINT);
  out.uvarint(v);
}

/** Appends a length-delimited field holding [ptr, ptr+len). */
export function writeBytesField(out: ByteWriter, field: u32, ptr: usize, len: u32): void {
  writeTag(out, field, WIRE_LEN);
  out.uvarint(len);
  out.bytes(ptr, len);
}
