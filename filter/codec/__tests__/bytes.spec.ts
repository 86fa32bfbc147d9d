import { ByteReader, ByteWriter } from "../bytes";

describe("ByteReader", () => {
  it("reads big-endian integers and varints", () => {
    const w = new ByteWriter();
    w.u16(0xdabb); w.u32(0x01020304); w.i64(-2); w.uvarint(300);
    const r = new ByteReader().reset(w.ptr, w.length);
    expect(r.u16()).toBe(0xdabb);
    expect(r.u32()).toBe(0x01020304);
    expect(r.i64()).toBe(-2);
    expect(r.uvarint()).toBe(300);
    expect(r.ok).toBe(true);
    expect(r.remaining()).toBe(0);
    w.free();
  });

  it("fails soft past the end", () => {
    const w = new ByteWriter();
    w.u8(1);
    const r = new ByteReader().reset(w.ptr, w.length);
    expect(r.u32()).toBe(0);
    expect(r.ok).toBe(false);
    expect(r.u8()).toBe(0);
    w.free();
  });

  it("rejects an overlong varint", () => {
    const w = new ByteWriter();
    for (let i = 0; i < 11; i++) w.u8(0xff);
    const r = new ByteReader().reset(w.ptr, w.length);
    r.uvarint();
    expect(r.ok).toBe(false);
    w.free();
  });
});
