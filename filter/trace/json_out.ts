// JSON written straight into a byte buffer (UTF-8), for the export bodies: no string is built per
// field, so exporting a batch allocates nothing on the GC heap but its output buffer. (Built from
// strings, a span cost one allocation per hex digit and per concatenation, and the GC traced every
// buffered span for each of them.)
import { ByteWriter } from "../codec/bytes";

const HEX_DIGITS = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);

export class JsonOut {
  readonly w: ByteWriter = new ByteWriter();

  clear(): JsonOut { this.w.clear(); return this; }

  /** ASCII text as it is (field names, punctuation). */
  raw(ascii: string): JsonOut {
    const n = ascii.length;
    this.w.ensure(<u32>n);
    // ASCII: one byte per UTF-16 unit; the runtime's encoder is a tight loop without bounds checks.
    String.UTF8.encodeUnsafe(changetype<usize>(ascii), n, this.w.ptr + this.w.length, false);
    this.w.length += <u32>n;
    return this;
  }

  /** `digits` lowercase hex digits of v (its low ones), zero-padded. */
  hex(v: u64, digits: i32): JsonOut {
    this.w.ensure(<u32>digits);
    const at = this.w.ptr + this.w.length;
    for (let i = 0; i < digits; i++) {
      const d = <usize>((v >> (<u64>(digits - 1 - i) * 4)) & 0xf);
      store<u8>(at + <usize>i, load<u8>(HEX_DIGITS + d));
    }
    this.w.length += <u32>digits;
    return this;
  }

  /** An unsigned decimal. */
  uint(v: u64): JsonOut {
    let digits = 1;
    for (let x = v; x >= 10; x /= 10) digits++;
    this.w.ensure(<u32>digits);
    const at = this.w.ptr + this.w.length;
    for (let i = digits - 1; i >= 0; i--) {
      store<u8>(at + <usize>i, <u8>(0x30 + <u32>(v % 10)));
      v /= 10;
    }
    this.w.length += <u32>digits;
    return this;
  }

  int(v: i64): JsonOut {
    if (v < 0) { this.raw("-"); return this.uint(<u64>(-v)); }
    return this.uint(<u64>v);
  }

  /** A JSON string literal: quotes, backslashes and control characters escaped, the rest UTF-8. */
  str(s: string): JsonOut {
    return this.raw("\"").escaped(s).raw("\"");
  }

  /** The inside of a string literal (for one literal made of several parts). */
  escaped(s: string): JsonOut {
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
      this.utf16(s, from, i);
      if (c == 0x22) this.raw("\\\"");
      else if (c == 0x5c) this.raw("\\\\");
      else if (c == 0x0a) this.raw("\\n");
      else if (c == 0x0d) this.raw("\\r");
      else if (c == 0x09) this.raw("\\t");
      else { this.raw("\\u00"); this.hex(<u64>c, 2); }
      from = i + 1;
    }
    this.utf16(s, from, s.length);
    return this;
  }

  /** s[from, to) as UTF-8. */
  private utf16(s: string, from: i32, to: i32): void {
    if (to <= from) return;
    const src = changetype<usize>(s) + (<usize>from << 1);
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
    this.w.ensure(<u32>(to - from) * 3);
    this.w.length += <u32>String.UTF8.encodeUnsafe(src, to - from, this.w.ptr + this.w.length, false);
  }

  toString(): string { return String.UTF8.decodeUnsafe(this.w.ptr, this.w.length); }
}
