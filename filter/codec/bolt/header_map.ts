// The header section as SOFA RPC writes it over Bolt (SimpleMapSerializer, also what MOSN and
// Aeraki's MetaProtocol Bolt codec read): entries of
//   keyLen i32 | key bytes | valueLen i32 | value bytes
// until the section ends; a length of -1 is a null string (the entry is skipped). Plain Bolt leaves
// the section empty unless the application registers a custom serializer.
import { ByteWriter, sameMemory } from "../bytes";
import { Mutation } from "../codec";

/** One entry of a header section, as spans; `ok` false when the section is not well formed. */
export class HeaderMapReader {
  private base: usize = 0;
  private end: u32 = 0;
  private pos: u32 = 0;
  ok: bool = true;
  keyPtr: usize = 0;
  keyLen: u32 = 0;
  valuePtr: usize = 0;
  valueLen: u32 = 0;
  /** The key or the value was null (-1): skip the entry. */
  isNull: bool = false;
  /** Where the current entry starts and ends in the section. */
  entryStart: u32 = 0;
  valueStart: u32 = 0;

  reset(base: usize, length: u32): HeaderMapReader {
    this.base = base;
    this.end = length;
    this.pos = 0;
    this.ok = true;
    return this;
  }

  get atEnd(): bool { return this.pos >= this.end; }

  /** Reads the next entry; false at the end or on a malformed section (then `ok` is false). */
  next(): bool {
    if (!this.ok || this.pos >= this.end) return false;
    this.entryStart = this.pos;
    this.isNull = false;
    if (!this.string()) { this.ok = false; return false; }
    this.keyPtr = this.spanPtr;
    this.keyLen = this.spanLen;
    this.valueStart = this.pos;
    if (!this.string()) { this.ok = false; return false; }
    this.valuePtr = this.spanPtr;
    this.valueLen = this.spanLen;
    return true;
  }

  private spanPtr: usize = 0;
  private spanLen: u32 = 0;

  private string(): bool {
    if (this.end - this.pos < 4) return false;
    const n = bswap<u32>(load<u32>(this.base + this.pos));
    this.pos += 4;
    if (n == 0xffffffff) { this.isNull = true; this.spanPtr = 0; this.spanLen = 0; return true; }
    if (n > this.end - this.pos) return false;
    this.spanPtr = this.base + this.pos;
    this.spanLen = n;
    this.pos += n;
    return true;
  }
}

export function writeEntry(out: ByteWriter, key: string, value: string): void {
  const at = out.length;
  out.u32(0);
  out.patchU32(at, out.utf8(key));
  const v = out.length;
  out.u32(0);
  out.patchU32(v, out.utf8(value));
}

/** The index of the mutation key equal to [ptr, ptr+len), or -1. */
export function indexOfKey(mutation: Mutation, ptr: usize, len: u32): i32 {
  for (let i = 0; i < mutation.keys.length; i++) {
    const k = unchecked(mutation.keys[i]);
    if (<u32>String.UTF8.byteLength(k, false) != len) continue;
    const buf = String.UTF8.encode(k, false);
    if (sameMemory(changetype<usize>(buf), ptr, len)) return i;
  }
  return -1;
}
