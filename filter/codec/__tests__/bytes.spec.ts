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

describe("ByteWriter.shrink", () => {
  it("gives back capacity over the limit, keeping the content", () => {
    const w = new ByteWriter();
    for (let i = 0; i < 100000; i++) w.u8(i & 0xff);
    expect(w.capacity >= 100000).toBe(true);
    w.shrink(4096); // holds more than the limit: kept as it is
    expect(w.capacity >= 100000).toBe(true);
    w.length = 1000;
    w.shrink(4096);
    expect(w.capacity).toBe(1024);
    expect(w.length).toBe(1000);
    expect(load<u8>(w.ptr + 999)).toBe(<u8>(999 & 0xff));
    w.clear();
    w.shrink(4096); // small enough already: kept for the next use
    expect(w.capacity).toBe(1024);
    for (let i = 0; i < 100000; i++) w.u8(1);
    w.clear();
    w.shrink(4096); // large and empty: given back
    expect(w.capacity).toBe(0);
    expect(w.ptr).toBe(0);
    w.u8(7); // usable again
    expect(w.length).toBe(1);
    w.free();
  });
});
