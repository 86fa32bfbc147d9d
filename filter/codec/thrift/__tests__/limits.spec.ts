import { ByteWriter } from "../../bytes";
import { DecodeError, DecodeStatus, Limits } from "../../codec";
import { Metadata } from "../../metadata";
import { ThriftCodec } from "../codec";
import { BINARY, decodeN, framed, hex } from "./fixtures";

function limits(maxFrameBytes: u32, maxDepth: u32, maxEntries: u32, maxValueBytes: u32): Limits {
  const l = new Limits();
  l.maxFrameBytes = maxFrameBytes;
  l.maxDepth = maxDepth;
  l.maxMetadataEntries = maxEntries;
  l.maxMetadataValueBytes = maxValueBytes;
  return l;
}

function expectError(codec: ThriftCodec, w: ByteWriter, len: u32, error: DecodeError): void {
  const md = new Metadata();
  expect(decodeN(codec, w, len, md)).toBe(DecodeStatus.Invalid, codec.errorDetail);
  expect(codec.error).toBe(error, codec.errorDetail);
}

/** An unframed binary call whose argument 1 is `levels` lists nested in each other around an empty i32 list. */
function nestedLists(levels: i32, compact: bool): ByteWriter {
  const w = new ByteWriter();
  if (compact) {
    w.u8(0x82); w.u8(0x21); w.u8(1); w.u8(1); w.utf8("m");
    w.u8(0x19); // field 1, list
    for (let i = 1; i < levels; i++) w.u8(0x19); // one list of one list
    w.u8(0x05); // an empty list of i32
  } else {
    w.u32(0x80010001); w.u32(1); w.utf8("m"); w.u32(1);
    w.u8(15); w.u16(1); // field 1, list
    for (let i = 1; i < levels; i++) { w.u8(15); w.u32(1); }
    w.u8(8); w.u32(0); // an empty list of i32
  }
  w.u8(0); // end of arguments
  return w;
}

describe("Thrift limits", () => {
  it("refuses a frame from its length field, before the body arrives", () => {
    const w = new ByteWriter();
    w.u32(5 << 20); w.u16(0x8001); // 5 MiB frame, only 6 bytes buffered
    expectError(new ThriftCodec(new Limits()), w, w.length, DecodeError.FrameTooLarge);
    const header = new ByteWriter();
    header.u32(5 << 20); header.u16(0x0fff);
    expectError(new ThriftCodec(new Limits()), header, header.length, DecodeError.FrameTooLarge);
  });

  it("refuses an unframed message from a string length, before the string arrives", () => {
    const w = new ByteWriter();
    w.u32(0x80010001); w.u32(1); w.utf8("m"); w.u32(1);
    w.u8(11); w.u16(1); w.u32(100 << 20); // a 100 MiB string follows
    expectError(new ThriftCodec(new Limits()), w, w.length, DecodeError.FrameTooLarge);
  });

  it("bounds an unframed message by the bytes consumed", () => {
    const w = new ByteWriter();
    w.u32(0x80010001); w.u32(1); w.utf8("m"); w.u32(1);
    for (let i = 0; i < 20; i++) { w.u8(8); w.u16(<u32>i + 1); w.u32(0); } // 20 i32 fields, no end yet
    const codec = new ThriftCodec(limits(64, 32, 64, 8192));
    expectError(codec, w, w.length, DecodeError.FrameTooLarge);
    // Below the limit, the same incomplete message waits for more bytes.
    const md = new Metadata();
    expect(decodeN(new ThriftCodec(new Limits()), w, w.length, md)).toBe(DecodeStatus.NeedMore);
  });

  it("walks nesting up to maxDepth and refuses deeper", () => {
    // The message body is depth 1, so 31 nested lists reach depth 32.
    const md = new Metadata();
    for (let c = 0; c < 2; c++) {
      const ok = nestedLists(31, c == 1);
      const codec = new ThriftCodec(new Limits());
      expect(decodeN(codec, ok, ok.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
      expect(md.frameLength).toBe(ok.length);
      expectError(new ThriftCodec(new Limits()), nestedLists(32, c == 1), nestedLists(32, c == 1).length, DecodeError.TooDeep);
    }
    // Depth is checked before the bytes run out: a deep prefix fails at once.
    const deep = nestedLists(1000, false);
    expectError(new ThriftCodec(new Limits()), deep, 2000, DecodeError.TooDeep);
  });

  it("limits THeader header count and sizes, and the method name", () => {
    const payload = hex(BINARY);
    // 3 headers k0..k2 = "vvvvvvvvvv"
    const h = new ByteWriter();
    h.u16(0x0fff); h.u16(0); h.u32(1); h.u16(12);
    h.u8(0); h.u8(0); h.u8(1); h.u8(3);
    for (let i = 0; i < 3; i++) { h.u8(2); h.utf8("k" + i.toString()); h.u8(10); h.utf8("vvvvvvvvvv"); }
    while (h.length < 10 + 48) h.u8(0);
    h.bytes(payload.ptr, payload.length);
    const w = framed(h);
    const md = new Metadata();
    const fits = new ThriftCodec(limits(1 << 20, 32, 4, 10));
    expect(decodeN(fits, w, w.length, md)).toBe(DecodeStatus.Frame, fits.errorDetail);
    expect(md.count).toBe(4);
    expectError(new ThriftCodec(limits(1 << 20, 32, 3, 10)), w, w.length, DecodeError.TooManyMetadataEntries);
    expectError(new ThriftCodec(limits(1 << 20, 32, 2, 10)), w, w.length, DecodeError.TooManyMetadataEntries);
    expectError(new ThriftCodec(limits(1 << 20, 32, 64, 9)), w, w.length, DecodeError.MetadataValueTooLarge);
    const name = hex(BINARY); // "hello"
    expectError(new ThriftCodec(limits(1 << 20, 32, 64, 4)), name, name.length, DecodeError.MetadataValueTooLarge);
  });

  it("refuses THeader variants it cannot read, and broken header data", () => {
    const payload = hex(BINARY);
    const data: string[] = ["00010100", "01000000", "07000000", "00000101" + "046b6579", "00000000" + "00000000"];
    const words: u32[] = [1, 1, 1, 2, 0];
    const errors: DecodeError[] = [DecodeError.Unsupported, DecodeError.Unsupported, DecodeError.Malformed, DecodeError.Malformed, DecodeError.Malformed];
    for (let i = 0; i < data.length; i++) {
      // transforms (zlib), JSON protocol, unknown protocol, key past the header data, header size 0
      const d = hex(data[i]);
      const h = new ByteWriter();
      h.u16(0x0fff); h.u16(0); h.u32(1); h.u16(words[i]);
      h.bytes(d.ptr, d.length);
      h.bytes(payload.ptr, payload.length);
      const w = framed(h);
      expectError(new ThriftCodec(new Limits()), w, w.length, errors[i]);
    }
  });

  it("rejects garbage first bytes and impossible sizes", () => {
    const vectors: string[] = [
      "ff00000000000000", // negative frame length
      "8002000100000001", // binary version 2
      "8221", // compact, needs more
      "822f0100", // compact version 15
      "0000000980010001ffffffff00", // framed binary, negative name length
      "8001000100000001610000000108000100", // unframed, an i32 field cut short: needs more
    ];
    const statuses: DecodeStatus[] = [DecodeStatus.Invalid, DecodeStatus.Invalid, DecodeStatus.NeedMore, DecodeStatus.Invalid,
      DecodeStatus.Invalid, DecodeStatus.NeedMore];
    const md = new Metadata();
    for (let i = 0; i < vectors.length; i++) {
      const w = hex(vectors[i]);
      const codec = new ThriftCodec(new Limits());
      expect(decodeN(codec, w, w.length, md)).toBe(statuses[i], vectors[i] + " " + codec.errorDetail);
    }
    // A binary list of VOID elements, a negative map size, and an unknown compact type.
    const bad: string[] = ["800100010000000161000000010f0001010000000100", "800100010000000161000000010d00010808ffffffff00",
      "8221010161" + "1e00"];
    for (let i = 0; i < bad.length; i++) expectError(new ThriftCodec(new Limits()), hex(bad[i]), hex(bad[i]).length, DecodeError.Malformed);
  });
});
