// respond()'s content: the message as a hessian2 string in the 'S' form (0x53, u16 length in UTF-16
// units, each unit as its own 1-3 byte sequence). sofa-hessian 3.5.5 (what Bolt deserializes with)
// does not read the compact 0x30-0x33 form of 32-1023 units ("readObject: unknown code 0x30", seen
// against the real Bolt client), so this codec writes every length in the 'S' form.
import { ByteWriter } from "../bytes";

/** Longest 'S' chunk; longer messages are cut (an error message, not data). */
const MAX_UNITS: i32 = 0x7fff;

export function writeHessianString(out: ByteWriter, s: string): void {
  const n = min(s.length, MAX_UNITS);
  out.u8(0x53);
  out.u16(<u32>n);
  for (let i = 0; i < n; i++) {
    const c = <u32>s.charCodeAt(i);
    if (c < 0x80) out.u8(c);
    else if (c < 0x800) { out.u8(0xc0 | (c >> 6)); out.u8(0x80 | (c & 0x3f)); }
    else { out.u8(0xe0 | (c >> 12)); out.u8(0x80 | ((c >> 6) & 0x3f)); out.u8(0x80 | (c & 0x3f)); }
  }
}
