// Writes the few hessian2 values Meltemi produces: strings (attachment keys and values, error messages),
// null, and compact ints. Spec: Hessian 2.0 Serialization Protocol, "string" and "int" grammar.
import { ByteWriter } from "../bytes";
import { Tag } from "./hessian2";

/** Longest string chunk: a chunk length is 16 bits (spec "string"); hessian-lite uses 0x8000. */
const CHUNK_UNITS: i32 = 0x8000;

/**
 * Writes `s` as a hessian2 string. The length counts UTF-16 units and each unit is written as its own
 * 1-3 byte UTF-8 sequence, surrogates included (CESU-8): that is what Dubbo's hessian-lite writes, and
 * its reader rejects 4-byte sequences ("bad utf-8 encoding", Hessian2Input.parseUTF8Char, 4.0.4).
 */
export function writeString(out: ByteWriter, s: string): void {
  let start = 0;
  const total = s.length;
  while (total - start > CHUNK_UNITS) {
    out.u8(Tag.STRING_CHUNK);
    out.u16(<u32>CHUNK_UNITS);
    writeUnits(out, s, start, start + CHUNK_UNITS);
    start += CHUNK_UNITS;
  }
  const n = <u32>(total - start);
  if (n <= 31) out.u8(n);
  else if (n <= 1023) { out.u8(0x30 + (n >> 8)); out.u8(n & 0xff); }
  else { out.u8(Tag.STRING_FINAL); out.u16(n); }
  writeUnits(out, s, start, total);
}

export function writeNull(out: ByteWriter): void { out.u8(Tag.NULL); }

/** int ::= [x80-xbf] for -16..47 (the range the Dubbo response flags use). */
export function writeCompactInt(out: ByteWriter, v: i32): void { out.u8(<u32>(<i32>Tag.INT_ZERO + v)); }

/** Writes s[from, to) one UTF-16 unit at a time, each as a 1-3 byte sequence (see writeString). */
function writeUnits(out: ByteWriter, s: string, from: i32, to: i32): void {
  out.ensure(<u32>(to - from) * 3);
  let p = out.ptr + out.length;
  // The string's UTF-16 units read in place (i is within [0, s.length): no bounds check needed).
  const units = changetype<usize>(s);
  for (let i = from; i < to; i++) {
    const c = <u32>load<u16>(units + (<usize>i << 1));
    if (c < 0x80) {
      store<u8>(p++, <u8>c);
    } else if (c < 0x800) {
      store<u8>(p++, <u8>(0xc0 | (c >> 6)));
      store<u8>(p++, <u8>(0x80 | (c & 0x3f)));
    } else {
      store<u8>(p++, <u8>(0xe0 | (c >> 12)));
      store<u8>(p++, <u8>(0x80 | ((c >> 6) & 0x3f)));
      store<u8>(p++, <u8>(0x80 | (c & 0x3f)));
    }
  }
  out.length = <u32>(p - out.ptr);
}

/** True when [ptr, ptr+len) holds exactly the bytes writeString() would write for the data of `s`. */
export function stringDataEquals(ptr: usize, len: u32, s: string): bool {
  const n = s.length;
  // Each unit is 1-3 bytes: most keys that differ are told apart here.
  if (len < <u32>n || len > <u32>n * 3) return false;
  const units = changetype<usize>(s);
  let p: u32 = 0;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u16>(units + (<usize>i << 1));
    if (c < 0x80) {
      if (p + 1 > len || <u32>load<u8>(ptr + p) != c) return false;
      p += 1;
    } else if (c < 0x800) {
      if (p + 2 > len || <u32>load<u8>(ptr + p) != (0xc0 | (c >> 6)) || <u32>load<u8>(ptr + p + 1) != (0x80 | (c & 0x3f))) return false;
      p += 2;
    } else {
      if (p + 3 > len || <u32>load<u8>(ptr + p) != (0xe0 | (c >> 12)) || <u32>load<u8>(ptr + p + 1) != (0x80 | ((c >> 6) & 0x3f)) ||
        <u32>load<u8>(ptr + p + 2) != (0x80 | (c & 0x3f))) return false;
      p += 3;
    }
  }
  return p == len;
}
