import { ByteWriter } from "../../bytes";
import { DecodeError, DecodeStatus, ErrorKind, Limits, Mutation } from "../../codec";
import { Metadata, MessageKind } from "../../metadata";
import { FrameStream } from "../../stream";
import { BoltCodec } from "../codec";

/** A Bolt v1 frame, written by hand from the layout in ../protocol.ts. */
function frame(type: u32, cmd: u32, id: i32, statusOrTimeout: u32, cls: string, keys: string[], values: string[], content: u32): ByteWriter {
  const header = new ByteWriter();
  for (let i = 0; i < keys.length; i++) {
    header.u32(<u32>String.UTF8.byteLength(keys[i])); header.utf8(keys[i]);
    header.u32(<u32>String.UTF8.byteLength(values[i])); header.utf8(values[i]);
  }
  const w = new ByteWriter();
  w.u8(1); w.u8(type); w.u16(cmd); w.u8(1); w.i32(id); w.u8(1);
  if (type == 0) w.u16(statusOrTimeout); else w.u32(statusOrTimeout);
  w.u16(<u32>String.UTF8.byteLength(cls)); w.u16(header.length); w.u32(content);
  w.utf8(cls);
  w.bytes(header.ptr, header.length);
  for (let i: u32 = 0; i < content; i++) w.u8(0x41 + (i % 26));
  header.free();
  return w;
}

function request(id: i32, method: string): ByteWriter {
  return frame(1, 1, id, 3000, "com.alipay.sofa.rpc.core.request.SofaRequest", ["service", "sofa_head_method_name", "x-user"], ["org.example.Greeter:1.0", method, "alice"], 9);
}

function decodeAll(c: BoltCodec, w: ByteWriter, md: Metadata): DecodeStatus {
  md.reset();
  return c.decode(w.ptr, w.length, md);
}

describe("BoltCodec.decode", () => {
  it("reads a request's id, class, SOFA RPC headers and method", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    const f = request(-5, "greet");
    expect(decodeAll(c, f, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Request);
    expect(md.twoWay).toBe(true);
    expect(md.requestId).toBe(-5);
    expect(md.frameLength).toBe(f.length);
    expect(md.get("class")!).toBe("com.alipay.sofa.rpc.core.request.SofaRequest");
    expect(md.get("service")!).toBe("org.example.Greeter:1.0");
    expect(md.get("method")!).toBe("greet");
    expect(md.get("x-user")!).toBe("alice");
  });

  it("tells oneway, heartbeats, responses and error responses apart", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    expect(decodeAll(c, frame(2, 1, 1, 0, "C", [], [], 0), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Oneway);
    expect(md.twoWay).toBe(false);
    expect(decodeAll(c, frame(1, 0, 2, 0, "", [], [], 0), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Heartbeat);
    expect(md.twoWay).toBe(true);
    expect(decodeAll(c, frame(0, 0, 2, 0, "", [], [], 0), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Heartbeat);
    expect(md.twoWay).toBe(false);
    expect(decodeAll(c, frame(0, 2, 3, 0, "java.lang.String", [], [], 4), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Response);
    expect(decodeAll(c, frame(0, 2, 3, 4, "java.lang.String", [], [], 4), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Error);
  });

  it("waits for a whole frame at every cut, then decodes a stream of frames", () => {
    const data = new ByteWriter();
    const parts = [request(1, "a"), frame(1, 0, 2, 0, "", [], [], 0), frame(0, 2, 1, 0, "X", [], [], 3)];
    for (let i = 0; i < parts.length; i++) data.bytes(parts[i].ptr, parts[i].length);
    for (let cut: u32 = 0; cut < data.length; cut++) {
      const c = new BoltCodec(new Limits());
      const stream = new FrameStream();
      const md = new Metadata();
      let frames = 0;
      for (let piece = 0; piece < 2; piece++) {
        const from: u32 = piece == 0 ? 0 : cut;
        const to: u32 = piece == 0 ? cut : data.length;
        if (to > from) stream.push(data.ptr + from, to - from);
        while (true) {
          const st = stream.next(c, md);
          if (st == DecodeStatus.NeedMore) break;
          expect(st).toBe(DecodeStatus.Frame, "cut " + cut.toString());
          frames++;
          stream.consume(md.frameLength);
        }
      }
      expect(frames).toBe(3, "cut " + cut.toString());
      stream.pending.free();
    }
  });

  it("refuses other protocols, v2, unknown types and command codes, and every limit", () => {
    const md = new Metadata();
    const c = new BoltCodec(new Limits());
    const bad = new ByteWriter(); bad.u8(0xda); bad.u8(0xbb);
    expect(decodeAll(c, bad, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const v2 = new ByteWriter(); v2.u8(2);
    expect(decodeAll(c, v2, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Unsupported);
    expect(decodeAll(c, frame(3, 1, 1, 0, "", [], [], 0), md)).toBe(DecodeStatus.Invalid);
    expect(decodeAll(c, frame(1, 7, 1, 0, "", [], [], 0), md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);

    const small = new Limits(); small.maxFrameBytes = 64;
    const big = frame(1, 1, 1, 0, "C", [], [], 100);
    const head = new ByteWriter(); head.bytes(big.ptr, 22);
    const sc = new BoltCodec(small);
    expect(decodeAll(sc, head, md)).toBe(DecodeStatus.Invalid, "the limit is checked from the header alone");
    expect(sc.error).toBe(DecodeError.FrameTooLarge);

    const few = new Limits(); few.maxMetadataEntries = 2;
    const fc = new BoltCodec(few);
    expect(decodeAll(fc, request(1, "m"), md)).toBe(DecodeStatus.Invalid);
    expect(fc.error).toBe(DecodeError.TooManyMetadataEntries);

    const short = new Limits(); short.maxMetadataValueBytes = 8;
    const vc = new BoltCodec(short);
    expect(decodeAll(vc, request(1, "m"), md)).toBe(DecodeStatus.Invalid);
    expect(vc.error).toBe(DecodeError.MetadataValueTooLarge);

    // A header entry whose length runs past its section.
    const f = request(1, "m");
    store<u8>(f.ptr + 22 + 44 + 3, 0x7f);
    expect(decodeAll(c, f, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
  });

  it("never traps on random corruption of valid frames (seeded)", () => {
    let s: u32 = 0x5eed;
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    const base = request(7, "greet");
    const copy = new ByteWriter();
    for (let n = 0; n < 20000; n++) {
      copy.clear();
      copy.bytes(base.ptr, base.length);
      for (let k = 0; k < 3; k++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        store<u8>(copy.ptr + (s % copy.length), <u8>(s >> 8));
      }
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      md.reset();
      const st = c.decode(copy.ptr, s % (copy.length + 1), md);
      if (st == DecodeStatus.Frame) expect(md.frameLength <= copy.length).toBe(true);
    }
  });
});

describe("BoltCodec replies and mutation", () => {
  it("answers with a Bolt response: the request's id, the status per ErrorKind, the message as a hessian2 string", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    expect(decodeAll(c, request(42, "greet"), md)).toBe(DecodeStatus.Frame);
    const kinds: ErrorKind[] = [ErrorKind.OverLimit, ErrorKind.Unauthorized, ErrorKind.FaultAbort, ErrorKind.NoRoute, ErrorKind.BadRequest];
    const statuses: u32[] = [4, 2, 2, 6, 0x12];
    for (let i = 0; i < kinds.length; i++) {
      const out = new ByteWriter();
      c.respond(kinds[i], "no", md, out);
      const back = new Metadata();
      expect(c.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame);
      expect(back.kind).toBe(MessageKind.Error);
      expect(back.requestId).toBe(42);
      expect(back.frameLength).toBe(out.length);
      expect(<u32>bswap<u16>(load<u16>(out.ptr + 10))).toBe(statuses[i]);
      expect(back.get("class")!).toBe("java.lang.String");
      expect(<u32>load<u8>(out.ptr + out.length - 5)).toBe(0x53, "a hessian2 string in the S form");
      expect(<u32>load<u16>(out.ptr + out.length - 4)).toBe(0x0200, "of 2 UTF-16 units (big-endian)");
      out.free();
    }
  });

  it("probes with a two-way heartbeat carrying the request's id; identify reads a refused request's id", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    expect(decodeAll(c, request(-9, "greet"), md)).toBe(DecodeStatus.Frame);
    const out = new ByteWriter();
    expect(c.probe(md, null, out)).toBe(true);
    const p = new Metadata();
    expect(c.decode(out.ptr, out.length, p)).toBe(DecodeStatus.Frame);
    expect(p.kind).toBe(MessageKind.Heartbeat);
    expect(p.twoWay).toBe(true);
    expect(p.requestId).toBe(-9);

    const small = new Limits(); small.maxFrameBytes = 40;
    const sc = new BoltCodec(small);
    const f = request(77, "greet");
    expect(decodeAll(sc, f, md)).toBe(DecodeStatus.Invalid);
    expect(sc.identify(f.ptr, f.length, md)).toBe(true);
    expect(md.requestId).toBe(77);
    expect(md.kind).toBe(MessageKind.Request);
    const hb = frame(1, 0, 3, 0, "", [], [], 0);
    expect(sc.identify(hb.ptr, hb.length, md)).toBe(false, "a heartbeat is not answered with an error");
    expect(sc.identify(f.ptr, 21, md)).toBe(false, "the header is not whole");
  });

  it("sets, overwrites and appends header entries, fixing headerLen; refuses heartbeats", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    const f = request(5, "greet");
    expect(decodeAll(c, f, md)).toBe(DecodeStatus.Frame);
    const m = new Mutation().set("x-user", "bob").set("x-new", "1");
    const out = new ByteWriter();
    expect(c.encodeMutated(f.ptr, md, m, out)).toBe(true);
    const back = new Metadata();
    expect(c.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame);
    expect(back.frameLength).toBe(out.length);
    expect(back.get("x-user")!).toBe("bob");
    expect(back.get("x-new")!).toBe("1");
    expect(back.get("method")!).toBe("greet");
    expect(<u32>load<u8>(out.ptr + out.length - 1)).toBe(0x41 + 8, "the content follows unchanged");

    const hb = frame(1, 0, 3, 0, "", [], [], 0);
    expect(decodeAll(c, hb, md)).toBe(DecodeStatus.Frame);
    expect(c.encodeMutated(hb.ptr, md, m, new ByteWriter())).toBe(false);
  });

  it("mutates a response's header map too (response layout: headerLen at 14)", () => {
    const c = new BoltCodec(new Limits());
    const md = new Metadata();
    const f = frame(0, 2, 8, 0, "java.lang.String", ["a"], ["b"], 5);
    expect(decodeAll(c, f, md)).toBe(DecodeStatus.Frame);
    const out = new ByteWriter();
    expect(c.encodeMutated(f.ptr, md, new Mutation().set("x-back", "2"), out)).toBe(true);
    const back = new Metadata();
    expect(c.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame);
    expect(back.kind).toBe(MessageKind.Response);
    expect(back.requestId).toBe(8);
    expect(back.get("a")!).toBe("b");
    expect(back.get("x-back")!).toBe("2");
    expect(back.frameLength).toBe(out.length);
  });
});
