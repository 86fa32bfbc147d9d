// An unframed message has no length: its end is found by walking it. Arriving in many reads, it is
// not walked again from the start on every read: the walk goes on from the last body field it passed
// whole (FrameStream keeps that progress, Codec.resumeAt).
import { ByteWriter } from "../../bytes";
import { DecodeStatus, Limits } from "../../codec";
import { Metadata } from "../../metadata";
import { FrameStream } from "../../stream";
import { ThriftCodec } from "../codec";

/** A strict binary call "m", seqid 7, whose body has `fields` i32 fields (7 bytes each). */
function bigCall(fields: u32): ByteWriter {
  const w = new ByteWriter();
  w.u32(0x80010001); // version 1, CALL
  w.u32(1); w.u8(0x6d); // name "m"
  w.u32(7); // seqid
  for (let i: u32 = 0; i < fields; i++) { w.u8(8); w.u16(i & 0x7fff); w.u32(i); }
  w.u8(0); // STOP
  return w;
}

describe("unframed Thrift in many reads", () => {
  it("walks on from where the last read stopped, and finds the same frame", () => {
    const w = bigCall(20000);
    const codec = new ThriftCodec(new Limits());
    const stream = new FrameStream();
    const md = new Metadata();
    const piece: u32 = 1000;
    let frames = 0;
    let lastProgress: u32 = 0;
    for (let at: u32 = 0; at < w.length; at += piece) {
      const n = w.length - at < piece ? w.length - at : piece;
      stream.push(w.ptr + at, n);
      const status = stream.next(codec, md);
      if (status == DecodeStatus.NeedMore) {
        // Progress only grows, and stays within one field of what has arrived.
        expect(stream.progress >= lastProgress).toBe(true);
        expect(stream.progress + 7 >= at + n - 7).toBe(true);
        lastProgress = stream.progress;
        continue;
      }
      expect(status).toBe(DecodeStatus.Frame);
      expect(md.frameLength).toBe(w.length);
      expect(md.requestId).toBe(7);
      frames++;
      stream.consume(md.frameLength);
      expect(stream.progress).toBe(0);
    }
    expect(frames).toBe(1);
    expect(lastProgress > w.length / 2).toBe(true);
    stream.free();
    w.free();
  });
});
