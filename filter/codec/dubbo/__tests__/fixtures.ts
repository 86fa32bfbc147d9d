// Builds Dubbo frames and hessian2 values byte by byte for the unit tests (the interop tests in
// test/codec/dubbo-*.test.ts use frames from real Apache Dubbo instead).
import { ByteWriter } from "../../bytes";

/** Hessian2 bytes, written by hand so that each grammar form can be chosen explicitly. */
export class H {
  w: ByteWriter = new ByteWriter();

  b(bytes: Array<u32>): H { for (let i = 0; i < bytes.length; i++) this.w.u8(bytes[i]); return this; }

  /** A compact string (length < 32 units, ASCII). */
  s(text: string): H {
    this.w.u8(<u32>text.length);
    this.w.utf8(text);
    return this;
  }

  /** A string in the 'S' form. */
  bigS(text: string): H {
    this.w.u8(0x53);
    this.w.u16(<u32>text.length);
    this.w.utf8(text);
    return this;
  }

  int(v: i32): H { return this.b([0x90 + <u32>v]); }
  map(): H { return this.b([0x48]); }
  end(): H { return this.b([0x5a]); }
  nul(): H { return this.b([0x4e]); }
  raw(other: H): H { this.w.bytes(other.w.ptr, other.w.length); return this; }

  get ptr(): usize { return this.w.ptr; }
  get length(): u32 { return this.w.length; }
}

/** flag byte values */
export const REQ_TWO_WAY: u32 = 0xc2;
export const REQ_ONE_WAY: u32 = 0x82;
export const REQ_HEARTBEAT: u32 = 0xe2;
export const RESPONSE: u32 = 0x02;
export const RESPONSE_EVENT: u32 = 0x22;

/** A whole frame: the 16-byte header (body length from `body`), then the body. */
export function frame(flag: u32, status: u32, id: i64, body: H): H {
  const f = new H();
  f.w.u16(0xdabb);
  f.w.u8(flag);
  f.w.u8(status);
  f.w.i64(id);
  f.w.u32(body.length);
  f.raw(body);
  return f;
}

/** A request body as Dubbo writes it: version, path, service version, method, types, args, attachments. */
export function requestBody(method: string, types: string, args: H | null, attachments: H | null): H {
  const b = new H().s("2.0.2").s("org.example.Greeter").s("1.0.0").s(method).s(types);
  if (args !== null) b.raw(args);
  if (attachments !== null) b.raw(attachments);
  return b;
}

export function attachments(keys: string[], values: string[]): H {
  const h = new H().map();
  for (let i = 0; i < keys.length; i++) h.s(keys[i]).s(values[i]);
  return h.end();
}

/** A deterministic pseudo-random sequence (xorshift32) for the no-trap tests. */
export class Rng {
  constructor(private state: u32 = 0x9e3779b9) {}
  next(): u32 {
    let x = this.state;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    this.state = x;
    return x;
  }
  below(n: u32): u32 { return this.next() % n; }
}
