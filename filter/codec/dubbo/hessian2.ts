// Walks Hessian 2.0 values without building them: a Dubbo body is a sequence of hessian2 values, and
// the codec only needs the few strings that route a request (service, method, attachments). Arguments
// and response values are skipped. Spec: "Hessian 2.0 Serialization Protocol" (hessian.caucho.com,
// doc/hessian-serialization.html), as written and read by Dubbo's hessian-lite (Hessian2Output /
// Hessian2Input).
//
// Never aborts and never allocates: reads go through ByteReader, nesting is bounded by maxDepth, and
// every loop consumes at least one byte, so the work is bounded by the body length.
import { ByteReader } from "../bytes";
import { DecodeError } from "../codec";

/** Class definitions remembered per body; more are refused (real bodies hold a handful). */
export const MAX_CLASS_DEFS: i32 = 256;
/** A hard cap under any configured maxDepth: skip() recurses, and the Wasm stack is finite. */
const HARD_MAX_DEPTH: u32 = 512;

/** Byte codes of the grammar the codec names (the rest are ranges, see skip()). */
export namespace Tag {
  export const NULL: u32 = 0x4e; // 'N'
  export const MAP_UNTYPED: u32 = 0x48; // 'H'
  export const MAP_TYPED: u32 = 0x4d; // 'M'
  export const END: u32 = 0x5a; // 'Z': end of a variable-length list or map
  export const STRING_CHUNK: u32 = 0x52; // 'R'
  export const STRING_FINAL: u32 = 0x53; // 'S'
  export const INT_ZERO: u32 = 0x90; // compact int: 0x80..0xbf is -16..47
}

export enum StringKind {
  /** A string in one piece: its UTF-8 bytes are [spanPtr, spanPtr + spanLen). */
  Contiguous = 0,
  /** A string sent in 'R' chunks; spanLen is the total of its bytes, spanPtr is not usable. */
  Chunked = 1,
  Null = 2,
  /** The value at the cursor is not a string (left unread). */
  Other = 3,
  /** The bytes are not hessian2 (see error). */
  Invalid = 4,
}

export class Hessian2Reader {
  readonly r: ByteReader = new ByteReader();
  error: DecodeError = DecodeError.None;
  errorDetail: string = "";
  maxDepth: u32 = 32;
  /** Set by readString(). */
  spanPtr: usize = 0;
  spanLen: u32 = 0;
  /** Field counts of the class definitions seen so far ('C'), indexed by definition number. */
  private classFields: StaticArray<u32> = new StaticArray<u32>(MAX_CLASS_DEFS);
  private classCount: i32 = 0;

  /** Starts reading a new hessian2 stream (a new body: class definitions are forgotten). */
  reset(base: usize, length: u32, maxDepth: u32): Hessian2Reader {
    this.r.reset(base, length);
    this.error = DecodeError.None;
    this.errorDetail = "";
    this.maxDepth = maxDepth < HARD_MAX_DEPTH ? maxDepth : HARD_MAX_DEPTH;
    this.classCount = 0;
    return this;
  }

  @inline get pos(): u32 { return this.r.pos; }
  @inline get atEnd(): bool { return this.r.remaining() == 0; }
  @inline get failed(): bool { return this.error != DecodeError.None; }

  /** Moves the cursor within the same stream (class definitions stay known). */
  seek(pos: u32): void { this.r.pos = pos; this.r.ok = true; }

  /** The byte at the cursor, or -1 at the end. */
  @inline peek(): i32 { return this.r.remaining() > 0 ? <i32>this.r.peekAt(this.r.pos) : -1; }

  fail(error: DecodeError, detail: string): bool {
    if (this.error == DecodeError.None) {
      this.error = error;
      this.errorDetail = detail;
    }
    return false;
  }

  private truncated(): bool { return this.fail(DecodeError.Malformed, "hessian2 value runs past the end of the body"); }

  /**
   * Reads a string (or null) at the cursor, leaving any other value unread (StringKind.Other).
   * string ::= x52 b1 b0 <utf8-data> string | 'S' b1 b0 <utf8-data> | [x00-x1f] <utf8-data> | [x30-x33] b0 <utf8-data>
   */
  readString(): StringKind {
    // Fast path, the strings of a Dubbo request header and its attachments: a one-piece string whose
    // length bytes are all there and whose data is ASCII, read with plain loads.
    const r = this.r;
    const pos = r.pos;
    const end = r.length;
    const base = r.base;
    if (r.ok && pos < end) {
      const t = <u32>load<u8>(base + pos);
      let units: u32 = 0;
      let start: u32 = 0;
      if (t <= 0x1f) {
        units = t;
        start = pos + 1;
      } else if (t >= 0x30 && t <= 0x33 && end - pos >= 2) {
        units = ((t - 0x30) << 8) | <u32>load<u8>(base + pos + 1);
        start = pos + 2;
      } else if (t == Tag.STRING_FINAL && end - pos >= 3) {
        units = <u32>bswap<u16>(load<u16>(base + pos + 1));
        start = pos + 3;
      }
      if (start != 0 && end - start >= units) {
        // ASCII: one byte per unit. Else the general path below reads it (from the tag again).
        let p = base + start;
        const stop = p + units;
        while (p + 8 <= stop && (load<u64>(p) & 0x8080808080808080) == 0) p += 8;
        while (p < stop && load<u8>(p) < 0x80) p++;
        if (p == stop) {
          r.pos = start + units;
          this.spanPtr = base + start;
          this.spanLen = units;
          return StringKind.Contiguous;
        }
      }
    }
    return this.readStringSlow();
  }

  private readStringSlow(): StringKind {
    const tag = this.peek();
    if (tag < 0) { this.truncated(); return StringKind.Invalid; }
    if (tag == <i32>Tag.NULL) { this.r.skip(1); return StringKind.Null; }
    if (!isStringTag(<u32>tag)) return StringKind.Other;
    this.r.skip(1);
    if (<u32>tag == Tag.STRING_CHUNK) {
      let total: u32 = 0;
      let last = false;
      let chunkTag = <u32>tag;
      while (!last) {
        const units = this.stringLength(chunkTag);
        const start = this.r.pos;
        if (!this.skipUtf8(units)) return StringKind.Invalid;
        total += this.r.pos - start;
        last = chunkTag != Tag.STRING_CHUNK;
        if (!last) {
          // Spec: a non-final chunk is followed by the rest of the string, in any string form.
          chunkTag = this.r.u8();
          if (!this.r.ok) { this.truncated(); return StringKind.Invalid; }
          if (!isStringTag(chunkTag)) { this.fail(DecodeError.Malformed, "hessian2 string chunk not followed by a string"); return StringKind.Invalid; }
        }
      }
      this.spanPtr = 0;
      this.spanLen = total;
      return StringKind.Chunked;
    }
    const units = this.stringLength(<u32>tag);
    const start = this.r.pos;
    if (!this.skipUtf8(units)) return StringKind.Invalid;
    this.spanPtr = this.r.ptrAt(start);
    this.spanLen = this.r.pos - start;
    return StringKind.Contiguous;
  }

  /** Reads an int in any of its forms (int ::= 'I' b3 b2 b1 b0 | [x80-xbf] | [xc0-xcf] b0 | [xd0-xd7] b1 b0). */
  readInt(): i32 {
    const tag = this.r.u8();
    if (!this.r.ok) { this.truncated(); return 0; }
    if (tag >= 0x80 && tag <= 0xbf) return <i32>tag - 0x90;
    if (tag >= 0xc0 && tag <= 0xcf) return ((<i32>tag - 0xc8) << 8) | <i32>this.r.u8();
    if (tag >= 0xd0 && tag <= 0xd7) return ((<i32>tag - 0xd4) << 16) | <i32>this.r.u16();
    if (tag == 0x49) return this.r.i32();
    this.fail(DecodeError.Malformed, "hessian2 int expected");
    return 0;
  }

  /** Skips one value of any type. */
  skipValue(): bool { return this.skip(0); }

  /**
   * Starts a map: map ::= 'M' type (value value)* 'Z' | 'H' (value value)* 'Z'. Then call atMapEnd()
   * before each key.
   */
  beginMap(): bool {
    const tag = this.r.u8();
    if (!this.r.ok) return this.truncated();
    if (tag == Tag.MAP_UNTYPED) return true;
    if (tag == Tag.MAP_TYPED) return this.skipType();
    return this.fail(DecodeError.Malformed, "hessian2 map expected");
  }

  /** True (and the 'Z' consumed) at the end of a variable-length list or map. */
  @inline atMapEnd(): bool {
    const r = this.r;
    if (r.pos >= r.length) return !this.truncated();
    if (<u32>load<u8>(r.base + r.pos) != Tag.END) return false;
    if (r.ok) r.pos++;
    return true;
  }

  private skip(depth: u32): bool {
    if (depth > this.maxDepth) return this.fail(DecodeError.TooDeep, "hessian2 values nest deeper than the limit");
    let tag = this.r.u8();
    // class-def value: definitions come just before the first object that uses them.
    while (this.r.ok && tag == 0x43) {
      if (!this.readClassDef()) return false;
      tag = this.r.u8();
    }
    if (!this.r.ok) return this.truncated();
    if (tag >= 0x40 && tag <= 0x5f) return this.skipLettered(tag, depth);

    // Compact forms by range (spec section 4, "Serialization Grammar" and the bytecode map).
    if (tag <= 0x1f) return this.skipUtf8(tag); // string, length 0-31
    if (tag <= 0x2f) return this.skipBytes(tag - 0x20); // binary, length 0-15
    if (tag <= 0x33) return this.skipUtf8(((tag - 0x30) << 8) | this.r.u8()); // string, length 0-1023
    if (tag <= 0x37) return this.skipBytes(((tag - 0x34) << 8) | this.r.u8()); // binary, length 0-1023
    if (tag <= 0x3f) return this.skipBytes(2); // long, 3 bytes
    if (tag <= 0x6f) return this.skipObject(tag - 0x60, depth); // object of class def 0-15
    if (tag <= 0x77) return this.skipType() && this.skipValues(tag - 0x70, depth); // typed list, length 0-7
    if (tag <= 0x7f) return this.skipValues(tag - 0x78, depth); // untyped list, length 0-7
    if (tag <= 0xbf) return true; // int, 1 byte
    if (tag <= 0xcf) return this.skipBytes(1); // int, 2 bytes
    if (tag <= 0xd7) return this.skipBytes(2); // int, 3 bytes
    if (tag <= 0xef) return true; // long, 1 byte
    return this.skipBytes(1); // long, 2 bytes
  }

  /** The byte codes 0x40-0x5f, mostly letters. */
  private skipLettered(tag: u32, depth: u32): bool {
    switch (tag) {
      case 0x41: // 'A' non-final binary chunk, followed by the rest of the binary
        return this.skipBytes(this.r.u16()) && this.skipBinaryRest();
      case 0x42: return this.skipBytes(this.r.u16()); // 'B' final binary chunk
      case 0x44: return this.skipBytes(8); // 'D' double
      case 0x46: return true; // 'F'
      case 0x48: return this.skipPairs(depth); // 'H' untyped map
      case 0x49: return this.skipBytes(4); // 'I' int
      case 0x4a: return this.skipBytes(8); // date, milliseconds
      case 0x4b: return this.skipBytes(4); // date, minutes
      case 0x4c: return this.skipBytes(8); // 'L' long
      case 0x4d: return this.skipType() && this.skipPairs(depth); // 'M' typed map
      case 0x4e: return true; // 'N'
      case 0x4f: { // 'O' object
        const def = this.readInt();
        return !this.failed && this.skipObject(<u32>def, depth);
      }
      case 0x51: this.readInt(); return !this.failed; // 'Q' reference to an earlier value
      case 0x52: // 'R' non-final string chunk
        return this.skipUtf8(this.r.u16()) && this.skipStringRest();
      case 0x53: return this.skipUtf8(this.r.u16()); // 'S' final string chunk
      case 0x54: return true; // 'T'
      case 0x55: return this.skipType() && this.skipUntilEnd(depth); // 'U' typed list, variable length
      case 0x56: { // 'V' typed list, fixed length
        if (!this.skipType()) return false;
        const n = this.readInt();
        return !this.failed && this.skipValues(n, depth);
      }
      case 0x57: return this.skipUntilEnd(depth); // 'W' untyped list, variable length
      case 0x58: { // 'X' untyped list, fixed length
        const n = this.readInt();
        return !this.failed && this.skipValues(n, depth);
      }
      case 0x59: return this.skipBytes(4); // 'Y' long as int
      case 0x5b: case 0x5c: return true; // double 0.0, 1.0
      case 0x5d: return this.skipBytes(1); // double as byte
      case 0x5e: return this.skipBytes(2); // double as short
      case 0x5f: return this.skipBytes(4); // double as float
      default: // 0x40, 0x45, 0x47, 0x50 are reserved; 'Z' outside a list or map; 'C' is handled by skip()
        return this.fail(DecodeError.Malformed, "hessian2 byte code not valid here");
    }
  }

  private skipBytes(n: u32): bool {
    return this.r.skip(n) || this.truncated();
  }

  /**
   * Skips `units` UTF-16 code units of UTF-8 bytes. Hessian counts string lengths in UTF-16 units:
   * hessian-lite writes each surrogate of a pair as its own 3-byte sequence (Hessian2Output.printString),
   * other encoders write a pair as one 4-byte sequence, which then counts for 2 units.
   */
  private skipUtf8(units: u32): bool {
    const r = this.r;
    if (!r.ok) return this.truncated();
    let pos = r.pos;
    const end = r.length;
    const base = r.base;
    while (units > 0) {
      // ASCII fast path: 8 bytes without a high bit are 8 units.
      if (units >= 8 && end - pos >= 8 && (load<u64>(base + pos) & 0x8080808080808080) == 0) {
        pos += 8;
        units -= 8;
        continue;
      }
      if (pos >= end) return this.truncated();
      const b = <u32>load<u8>(base + pos);
      let n: u32 = 1;
      if (b >= 0x80) {
        if (b < 0xc0) return this.fail(DecodeError.Malformed, "hessian2 string is not UTF-8");
        else if (b < 0xe0) n = 2;
        else if (b < 0xf0) n = 3;
        else if (b < 0xf8) {
          if (units < 2) return this.fail(DecodeError.Malformed, "hessian2 string length splits a surrogate pair");
          n = 4;
          units--;
        } else return this.fail(DecodeError.Malformed, "hessian2 string is not UTF-8");
      }
      if (end - pos < n) return this.truncated();
      pos += n;
      units--;
    }
    r.pos = pos;
    return true;
  }

  /** The rest of a chunked string: more chunks, then a final string in any form. */
  private skipStringRest(): bool {
    while (true) {
      const tag = this.r.u8();
      if (!this.r.ok) return this.truncated();
      if (!isStringTag(tag)) return this.fail(DecodeError.Malformed, "hessian2 string chunk not followed by a string");
      if (!this.skipUtf8(this.stringLength(tag))) return false;
      if (tag != Tag.STRING_CHUNK) return true;
    }
  }

  /** The rest of a chunked binary: binary ::= x41 b1 b0 <data> binary | 'B' b1 b0 <data> | [x20-x2f] <data> | [x34-x37] b0 <data>. */
  private skipBinaryRest(): bool {
    while (true) {
      const tag = this.r.u8();
      if (!this.r.ok) return this.truncated();
      let n: u32;
      if (tag == 0x41 || tag == 0x42) n = this.r.u16();
      else if (tag >= 0x20 && tag <= 0x2f) n = tag - 0x20;
      else if (tag >= 0x34 && tag <= 0x37) n = ((tag - 0x34) << 8) | this.r.u8();
      else return this.fail(DecodeError.Malformed, "hessian2 binary chunk not followed by binary");
      if (!this.skipBytes(n)) return false;
      if (tag != 0x41) return true;
    }
  }

  /** The length in UTF-16 units announced by a string tag already read (reads the length bytes). */
  private stringLength(tag: u32): u32 {
    if (tag <= 0x1f) return tag;
    if (tag <= 0x33) return ((tag - 0x30) << 8) | this.r.u8();
    return this.r.u16(); // 'R' or 'S'
  }

  /** type ::= string | int (a reference to a type named earlier). */
  private skipType(): bool {
    const tag = this.peek();
    if (tag < 0) return this.truncated();
    if (isStringTag(<u32>tag)) {
      this.r.skip(1);
      if (!this.skipUtf8(this.stringLength(<u32>tag))) return false;
      return <u32>tag == Tag.STRING_CHUNK ? this.skipStringRest() : true;
    }
    this.readInt();
    return !this.failed;
  }

  /** class-def ::= 'C' string int string* (type name, field count, field names). */
  private readClassDef(): bool {
    const name = this.readString();
    if (name == StringKind.Invalid) return false;
    if (name != StringKind.Contiguous && name != StringKind.Chunked) return this.fail(DecodeError.Malformed, "hessian2 class name is not a string");
    const fields = this.readInt();
    if (this.failed) return false;
    if (fields < 0) return this.fail(DecodeError.Malformed, "hessian2 class definition with a negative field count");
    if (this.classCount >= MAX_CLASS_DEFS) return this.fail(DecodeError.Unsupported, "more hessian2 class definitions than Meltemi keeps");
    for (let i = 0; i < fields; i++) {
      const kind = this.readString();
      if (kind == StringKind.Invalid) return false;
      if (kind != StringKind.Contiguous && kind != StringKind.Chunked) return this.fail(DecodeError.Malformed, "hessian2 field name is not a string");
    }
    unchecked(this.classFields[this.classCount++] = <u32>fields);
    return true;
  }

  private skipObject(def: u32, depth: u32): bool {
    if (def >= <u32>this.classCount) return this.fail(DecodeError.Malformed, "hessian2 object of an undefined class");
    return this.skipValues(<i32>unchecked(this.classFields[def]), depth);
  }

  private skipValues(n: i32, depth: u32): bool {
    if (n < 0) return this.fail(DecodeError.Malformed, "hessian2 list with a negative length");
    for (let i = 0; i < n; i++) {
      if (!this.skip(depth + 1)) return false;
    }
    return true;
  }

  private skipUntilEnd(depth: u32): bool {
    while (true) {
      const tag = this.peek();
      if (tag < 0) return this.truncated();
      if (<u32>tag == Tag.END) { this.r.skip(1); return true; }
      if (!this.skip(depth + 1)) return false;
    }
  }

  private skipPairs(depth: u32): bool {
    while (true) {
      const tag = this.peek();
      if (tag < 0) return this.truncated();
      if (<u32>tag == Tag.END) { this.r.skip(1); return true; }
      if (!this.skip(depth + 1) || !this.skip(depth + 1)) return false;
    }
  }
}

@inline function isStringTag(tag: u32): bool {
  return tag <= 0x1f || (tag >= 0x30 && tag <= 0x33) || tag == Tag.STRING_CHUNK || tag == Tag.STRING_FINAL;
}
