// Damaged and random input never traps the codec, and whatever decodes re-encodes into frames that
// decode again. Deterministic: a fixed xorshift seed.
import { ByteWriter } from "../../bytes";
import { DecodeStatus, ErrorKind, Limits, Mutation } from "../../codec";
import { Metadata, MessageKind } from "../../metadata";
import { FrameStream } from "../../stream";
import { ThriftCodec } from "../codec";
import { BINARY, COMPACT, ENVOY_THEADER, LAX, framed, hex } from "./fixtures";

let seed: u32 = 0x9e3779b9;
function next(): u32 {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}
function below(n: u32): u32 { return next() % n; }

function bases(): ByteWriter[] {
  const list: ByteWriter[] = [];
  const hexes: string[] = [BINARY, COMPACT, LAX, ENVOY_THEADER,
    // a binary call with a struct, a map<i32,string>, a set<double> and a list<bool>
    "800100010000000161000000070c00010800010000002a00" + "0d0002080b00000002000000010000000178000000020000000179" +
      "0e00030400000001" + "0000000000000000" + "0f0004020000000201" + "00" + "00",
    // compact: a struct holding a map<string,i64>, a list<bool>, an i16, and a field id without delta
    "8221070161" + "1c" + "1b" + "01" + "86" + "0161" + "04" + "00" + "19" + "21" + "0102" + "14" + "fe03" + "0c" + "03" + "00" + "00"];
  for (let i = 0; i < hexes.length; i++) {
    list.push(hex(hexes[i]));
    if (i != 3) list.push(framed(hex(hexes[i])));
  }
  return list;
}

function damaged(base: ByteWriter): ByteWriter {
  const w = new ByteWriter();
  const mode = below(5);
  if (mode == 4) { // random bytes, first byte often a plausible one
    const n = below(64);
    const firsts: u32[] = [0x80, 0x82, 0x00, 0x0f];
    for (let i: u32 = 0; i < n; i++) w.u8(i == 0 && below(2) == 0 ? firsts[below(4)] : below(256));
    return w;
  }
  w.bytes(base.ptr, base.length);
  if (mode == 3 && w.length > 1) { w.length = 1 + below(w.length - 1); return w; } // truncated
  const flips: u32 = 1 + below(4);
  for (let i: u32 = 0; i < flips && w.length > 0; i++) {
    const at = below(w.length);
    const flipped: u32 = mode == 0 ? below(256) : (<u32>load<u8>(w.ptr + at) ^ (<u32>1 << below(8)));
    store<u8>(w.ptr + at, <u8>flipped);
  }
  if (mode == 2) { const tail = below(16); for (let i: u32 = 0; i < tail; i++) w.u8(below(256)); } // trailing garbage
  return w;
}

/** What a decoded frame re-encodes into must decode again, as the same request. */
function checkReencodings(ptr: usize, md: Metadata, codec: ThriftCodec): void {
  const again = new ThriftCodec(new Limits());
  const back = new Metadata();
  const out = new ByteWriter();
  if (codec.encodeMutated(ptr, md, new Mutation().set("x-fuzz", "1"), out)) {
    expect(again.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame, again.errorDetail);
    expect(back.requestId).toBe(md.requestId);
    expect(back.kind).toBe(md.kind);
    expect(back.frameLength).toBe(out.length);
    expect(back.get("x-fuzz")).toBe("1");
  }
  out.clear();
  back.reset();
  codec.respond(ErrorKind.FaultAbort, "fuzz", md, out);
  expect(again.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame, again.errorDetail);
  expect(back.kind).toBe(MessageKind.Error);
  expect(back.requestId).toBe(md.requestId);
  out.clear();
  back.reset();
  if (codec.encodeRouted(ptr, md, new Mutation().set("x-meltemi-cluster", "c"), "c", out)) {
    expect(again.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame, again.errorDetail);
    expect(back.requestId).toBe(md.requestId);
    expect(back.get("service")).toBe("c");
  }
  out.clear();
  back.reset();
  if (codec.encodeForClient(ptr, md, below(12), out)) {
    expect(again.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame, again.errorDetail);
    expect(back.requestId).toBe(md.requestId);
  }
  out.free();
}

describe("Thrift codec on damaged input", () => {
  it("never traps, and every frame it finds re-encodes into a decodable frame", () => {
    const list = bases();
    let frames = 0;
    let invalid = 0;
    for (let iteration = 0; iteration < 4000; iteration++) {
      const input = damaged(list[below(list.length)]);
      const l = new Limits();
      if (below(4) == 0) { l.maxFrameBytes = 16 + below(64); l.maxDepth = 1 + below(4); l.maxMetadataEntries = 1 + below(3); l.maxMetadataValueBytes = below(8); }
      const codec = new ThriftCodec(l);
      const stream = new FrameStream();
      const md = new Metadata();
      let at: u32 = 0;
      let done = false;
      while (at < input.length && !done) {
        const piece = 1 + below(input.length - at);
        stream.push(input.ptr + at, piece);
        at += piece;
        while (true) {
          const status = stream.next(codec, md);
          if (status == DecodeStatus.NeedMore) break;
          if (status == DecodeStatus.Invalid) { invalid++; done = true; break; }
          expect(md.frameLength).toBeGreaterThan(0);
          expect(md.frameLength).toBeLessThanOrEqual(stream.buffered);
          checkReencodings(stream.head, md, codec);
          frames++;
          stream.consume(md.frameLength);
        }
      }
      stream.pending.free();
      input.free();
    }
    // The run exercised both outcomes (guards against a fuzzer that only ever sees one).
    expect(frames).toBeGreaterThan(500);
    expect(invalid).toBeGreaterThan(500);
  });
});
