import { ByteWriter } from "../../bytes";
import { DecodeError } from "../../codec";
import { Hessian2Reader, StringKind } from "../hessian2";
import { stringDataEquals, writeString } from "../hessian2_writer";
import { countParameters } from "../descriptor";
import { H } from "./fixtures";

/** Every production of the Hessian 2.0 grammar, each as one value (spec "Serialization Grammar"). */
function everyForm(): Array<H> {
  const v = new Array<H>();
  v.push(new H().b([0x4e])); // null
  v.push(new H().b([0x54])); // true
  v.push(new H().b([0x46])); // false
  v.push(new H().b([0x90])); // int 0, compact
  v.push(new H().b([0xc8, 0x00])); // int, 2 bytes
  v.push(new H().b([0xd4, 0x00, 0x00])); // int, 3 bytes
  v.push(new H().b([0x49, 0, 0, 1, 0])); // 'I'
  v.push(new H().b([0xe0])); // long, compact
  v.push(new H().b([0xf8, 0x01])); // long, 2 bytes
  v.push(new H().b([0x3c, 0x00, 0x01])); // long, 3 bytes
  v.push(new H().b([0x59, 0, 0, 0, 1])); // long as int
  v.push(new H().b([0x4c, 0, 0, 0, 0, 0, 0, 0, 1])); // 'L'
  v.push(new H().b([0x5b])); // double 0.0
  v.push(new H().b([0x5c])); // double 1.0
  v.push(new H().b([0x5d, 0x80])); // double as byte
  v.push(new H().b([0x5e, 0x80, 0x00])); // double as short
  v.push(new H().b([0x5f, 0, 0, 0, 1])); // double as float
  v.push(new H().b([0x44, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18])); // 'D'
  v.push(new H().b([0x4a, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00])); // date, ms
  v.push(new H().b([0x4b, 0x00, 0x00, 0x30, 0x39])); // date, minutes
  v.push(new H().s("")); // empty string
  v.push(new H().s("abc")); // compact string
  v.push(new H().b([0x30, 0x03]).b([0x61, 0x62, 0x63])); // string, 0-1023 form
  v.push(new H().bigS("hello")); // 'S'
  v.push(new H().b([0x52, 0x00, 0x02, 0x61, 0x62, 0x01, 0x63])); // chunked 'R' + compact
  v.push(new H().b([0x52, 0x00, 0x01, 0x61, 0x52, 0x00, 0x01, 0x62, 0x53, 0x00, 0x01, 0x63])); // R R S
  v.push(new H().b([0x01, 0xc3, 0xa9])); // "é": 2-byte UTF-8
  v.push(new H().b([0x01, 0xe6, 0x97, 0xa5])); // "日": 3-byte UTF-8
  v.push(new H().b([0x02, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80])); // U+1F600 as hessian-lite writes it
  v.push(new H().b([0x02, 0xf0, 0x9f, 0x98, 0x80])); // U+1F600 as 4-byte UTF-8 (2 units)
  v.push(new H().b([0x20])); // empty binary
  v.push(new H().b([0x23, 1, 2, 3])); // binary, compact
  v.push(new H().b([0x34, 0x02, 1, 2])); // binary, 0-1023 form
  v.push(new H().b([0x42, 0x00, 0x02, 1, 2])); // 'B'
  v.push(new H().b([0x41, 0x00, 0x01, 1, 0x21, 2])); // chunked 'A' + compact
  v.push(new H().b([0x41, 0x00, 0x01, 1, 0x42, 0x00, 0x01, 2])); // 'A' + 'B'
  v.push(new H().b([0x78])); // untyped fixed list, 0 elements
  v.push(new H().b([0x7a, 0x90, 0x4e])); // untyped fixed list, 2 elements
  v.push(new H().b([0x72]).s("[int").b([0x90, 0x91])); // typed fixed list, compact length
  v.push(new H().b([0x56]).s("[string").b([0x92]).s("a").s("b")); // 'V' typed fixed list
  v.push(new H().b([0x56, 0x90, 0x91, 0x54])); // 'V' with a type reference
  v.push(new H().b([0x58, 0x92, 0x54, 0x46])); // 'X' untyped fixed list
  v.push(new H().b([0x55]).s("java.util.ArrayList").b([0x90, 0x5a])); // 'U' typed variable list
  v.push(new H().b([0x57, 0x90, 0x91, 0x5a])); // 'W' untyped variable list
  v.push(new H().b([0x48]).s("k").s("v").b([0x5a])); // 'H' untyped map
  v.push(new H().b([0x4d]).s("java.util.TreeMap").s("k").b([0x90, 0x5a])); // 'M' typed map
  v.push(new H().b([0x4d, 0x90, 0x5a])); // 'M' with a type reference, empty
  v.push(new H().b([0x43]).s("Point").b([0x92]).s("x").s("y").b([0x60, 0x91, 0x92])); // class def + object
  v.push(new H().b([0x43]).s("A").b([0x90]).b([0x4f, 0x90])); // class def + 'O' object
  v.push(new H().b([0x7a, 0x43]).s("P").b([0x91]).s("v").b([0x60, 0x90, 0x60, 0x91])); // defs inside a list
  v.push(new H().b([0x51, 0x90])); // ref
  v.push(new H().b([0x48]).s("self").b([0x51, 0x90, 0x5a])); // map holding a ref
  return v;
}

/** [value][0x5a marker]: skipping the value must land exactly on the marker. */
function reader(v: H, maxDepth: u32 = 32): Hessian2Reader {
  return new Hessian2Reader().reset(v.ptr, v.length, maxDepth);
}

function count(desc: string): i32 {
  const b = String.UTF8.encode(desc);
  return countParameters(changetype<usize>(b), <u32>b.byteLength);
}

describe("Hessian2Reader.skipValue", () => {
  it("skips every form of the grammar exactly", () => {
    const forms = everyForm();
    for (let i = 0; i < forms.length; i++) {
      const r = reader(forms[i]);
      expect(r.skipValue()).toBe(true, "form " + i.toString());
      expect(r.pos).toBe(forms[i].length, "form " + i.toString() + " consumed exactly");
    }
  });

  it("skips a sequence of every form, class definitions numbered across the whole stream", () => {
    const forms = everyForm();
    const all = new H();
    let n = 0;
    for (let i = 0; i < forms.length; i++) {
      if (load<u8>(forms[i].ptr) == 0x43 || load<u8>(forms[i].ptr + 1) == 0x43) continue; // standalone class forms
      all.raw(forms[i]);
      n++;
    }
    all.b([0x43]).s("Point").b([0x92]).s("x").s("y").b([0x60, 0x91, 0x92]); // def 0
    all.b([0x7a, 0x43]).s("P").b([0x91]).s("v").b([0x61, 0x90, 0x61, 0x91]); // def 1, inside a list
    all.b([0x4f, 0x91, 0x54]); // 'O' of def 1
    all.b([0x60, 0x4e, 0x51, 0x90]); // def 0 again: fields null and a ref
    const r = reader(all);
    for (let i = 0; i < n + 4; i++) expect(r.skipValue()).toBe(true, "value " + i.toString());
    expect(r.atEnd).toBe(true);
  });

  it("fails soft on every truncation of every form, without trapping", () => {
    const forms = everyForm();
    for (let i = 0; i < forms.length; i++) {
      for (let cut: u32 = 0; cut < forms[i].length; cut++) {
        const r = new Hessian2Reader().reset(forms[i].ptr, cut, 32);
        expect(r.skipValue()).toBe(false, "form " + i.toString() + " cut at " + cut.toString());
        expect(r.error).toBe(DecodeError.Malformed);
      }
    }
  });

  it("rejects the reserved byte codes and a stray end marker", () => {
    const bad: u32[] = [0x40, 0x45, 0x47, 0x50, 0x5a];
    for (let i = 0; i < bad.length; i++) {
      const r = reader(new H().b([bad[i]]));
      expect(r.skipValue()).toBe(false);
      expect(r.error).toBe(DecodeError.Malformed);
    }
  });

  it("rejects an object of a class never defined", () => {
    const r = reader(new H().b([0x61]));
    expect(r.skipValue()).toBe(false);
    expect(r.error).toBe(DecodeError.Malformed);
  });

  it("rejects invalid UTF-8 lead bytes and a length that splits a 4-byte sequence", () => {
    expect(reader(new H().b([0x01, 0x80])).skipValue()).toBe(false);
    expect(reader(new H().b([0x01, 0xf8, 0x80, 0x80, 0x80, 0x80])).skipValue()).toBe(false);
    expect(reader(new H().b([0x01, 0xf0, 0x9f, 0x98, 0x80])).skipValue()).toBe(false);
  });

  it("bounds nesting by maxDepth", () => {
    const deep = new H();
    for (let i = 0; i < 10; i++) deep.b([0x79]); // a list of one element, 10 levels
    deep.b([0x90]);
    expect(reader(deep, 10).skipValue()).toBe(true);
    const r = reader(deep, 9);
    expect(r.skipValue()).toBe(false);
    expect(r.error).toBe(DecodeError.TooDeep);
  });

  it("never recurses past its hard cap, whatever maxDepth says", () => {
    const deep = new H();
    for (let i = 0; i < 5000; i++) deep.b([0x57]); // 'W' lists inside 'W' lists
    const r = reader(deep, 1000000);
    expect(r.skipValue()).toBe(false);
    expect(r.error).toBe(DecodeError.TooDeep);
  });
});

describe("Hessian2Reader.readString", () => {
  it("returns the UTF-8 span of a string in one piece", () => {
    const r = reader(new H().s("group"));
    expect(r.readString()).toBe(StringKind.Contiguous);
    expect(String.UTF8.decodeUnsafe(r.spanPtr, r.spanLen)).toBe("group");
  });

  it("counts a surrogate pair as two units in both encodings", () => {
    let r = reader(new H().b([0x04, 0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x62]));
    expect(r.readString()).toBe(StringKind.Contiguous);
    expect(r.spanLen).toBe(8);
    r = reader(new H().b([0x04, 0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62]));
    expect(r.readString()).toBe(StringKind.Contiguous);
    expect(r.spanLen).toBe(6);
    expect(String.UTF8.decodeUnsafe(r.spanPtr, r.spanLen)).toBe("a\u{1F600}b");
  });

  it("reports a chunked string with its total length, null, and other values left unread", () => {
    let r = reader(new H().b([0x52, 0x00, 0x02, 0x61, 0x62, 0x01, 0x63]));
    expect(r.readString()).toBe(StringKind.Chunked);
    expect(r.spanLen).toBe(3);
    expect(r.atEnd).toBe(true);
    r = reader(new H().b([0x4e]));
    expect(r.readString()).toBe(StringKind.Null);
    r = reader(new H().b([0x90]));
    expect(r.readString()).toBe(StringKind.Other);
    expect(r.pos).toBe(0);
  });
});

describe("hessian2 writer", () => {
  it("writes short, medium and chunked strings that the reader walks back", () => {
    const lengths: i32[] = [0, 31, 32, 1023, 1024, 32768, 32769, 70000];
    for (let i = 0; i < lengths.length; i++) {
      const s = "x".repeat(lengths[i]);
      const w = new ByteWriter();
      writeString(w, s);
      const r = new Hessian2Reader().reset(w.ptr, w.length, 32);
      const kind = r.readString();
      expect(kind).toBe(lengths[i] > 32768 ? StringKind.Chunked : StringKind.Contiguous, lengths[i].toString());
      expect(r.spanLen).toBe(<u32>lengths[i]);
      expect(r.atEnd).toBe(true);
      w.free();
    }
  });

  it("writes each UTF-16 unit as hessian-lite does (surrogates as 3-byte sequences)", () => {
    const w = new ByteWriter();
    writeString(w, "é\u{1F600}");
    const expected: u8[] = [0x03, 0xc3, 0xa9, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80];
    expect(w.length).toBe(<u32>expected.length);
    for (let i = 0; i < expected.length; i++) expect(load<u8>(w.ptr + i)).toBe(expected[i]);
    expect(stringDataEquals(w.ptr + 1, w.length - 1, "é\u{1F600}")).toBe(true);
    expect(stringDataEquals(w.ptr + 1, w.length - 1, "é")).toBe(false);
    w.free();
  });
});

describe("countParameters", () => {
  it("counts JVM descriptors", () => {
    expect(count("")).toBe(0);
    expect(count("Ljava/lang/String;")).toBe(1);
    expect(count("IJZ")).toBe(3);
    expect(count("[I[[Ljava/lang/String;D")).toBe(3);
    expect(count("Ljava/util/Map;Ljava/util/List;[B")).toBe(3);
  });
  it("rejects what is not a descriptor", () => {
    expect(count("Ljava/lang/String")).toBe(-1);
    expect(count("[")).toBe(-1);
    expect(count("Q")).toBe(-1);
  });
});
