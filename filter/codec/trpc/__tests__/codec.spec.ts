import { ByteWriter } from "../../bytes";
import { DecodeError, DecodeStatus, Direction, ErrorKind, Limits, Mutation } from "../../codec";
import { Metadata, MessageKind } from "../../metadata";
import { FrameStream } from "../../stream";
import { TrpcCodec } from "../codec";

// Frames written by hand from the layout in ../protocol.ts (tags as single bytes: field << 3 | wire).
function varintField(w: ByteWriter, field: u32, v: u64): void { w.u8(field << 3); w.uvarint(v); }
function bytesField(w: ByteWriter, field: u32, s: string): void {
  w.u8(field << 3 | 2); w.uvarint(<u64>String.UTF8.byteLength(s)); w.utf8(s);
}
function entry(w: ByteWriter, field: u32, k: string, v: string): void {
  const e = new ByteWriter();
  bytesField(e, 1, k); bytesField(e, 2, v);
  w.u8(field << 3 | 2); w.uvarint(e.length); w.bytes(e.ptr, e.length);
  e.free();
}

function frame(header: ByteWriter, body: u32, attachment: u32, id: u32): ByteWriter {
  const w = new ByteWriter();
  w.u16(0x0930); w.u8(0); w.u8(0);
  w.u32(16 + header.length + body + attachment); w.u16(header.length); w.u32(id); w.u8(1); w.u8(0);
  w.bytes(header.ptr, header.length);
  for (let i: u32 = 0; i < body + attachment; i++) w.u8(0x41 + (i % 26));
  header.free();
  return w;
}

function request(id: u32, func: string, callType: u32 = 0, attachment: u32 = 0): ByteWriter {
  const h = new ByteWriter();
  if (callType != 0) varintField(h, 2, callType);
  varintField(h, 3, id);
  varintField(h, 4, 3000);
  bytesField(h, 5, "trpc.app.client.service");
  bytesField(h, 6, "trpc.test.helloworld");
  bytesField(h, 7, func);
  entry(h, 9, "version", "v1");
  entry(h, 9, "func", "/evil/override");
  varintField(h, 10, 4);
  if (attachment > 0) varintField(h, 12, attachment);
  return frame(h, 5, attachment, id);
}

function response(id: u32, ret: i32, funcRet: i32): ByteWriter {
  const h = new ByteWriter();
  varintField(h, 3, id);
  if (ret != 0) varintField(h, 4, <u64><i64>ret);
  if (funcRet != 0) varintField(h, 5, <u64><i64>funcRet);
  if (ret != 0 || funcRet != 0) bytesField(h, 6, "failed");
  entry(h, 8, "x-back", "1");
  varintField(h, 9, 4);
  return frame(h, 3, 0, id);
}

function decodeAs(c: TrpcCodec, dir: Direction, w: ByteWriter, md: Metadata): DecodeStatus {
  md.reset();
  c.decoding = dir;
  return c.decode(w.ptr, w.length, md);
}

describe("TrpcCodec.decode", () => {
  it("reads a request's id, caller, callee, func (service and method) and trans_info", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    const f = request(0xfffffff0, "/trpc.test.helloworld.Greeter/SayHello");
    expect(decodeAs(c, Direction.Request, f, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Request);
    expect(md.twoWay).toBe(true);
    expect(md.requestId).toBe(0xfffffff0, "a u32, not sign-extended");
    expect(md.frameLength).toBe(f.length);
    expect(md.get("caller")!).toBe("trpc.app.client.service");
    expect(md.get("callee")!).toBe("trpc.test.helloworld");
    expect(md.get("func")!).toBe("/trpc.test.helloworld.Greeter/SayHello", "an entry named func does not override the header's");
    expect(md.get("service")!).toBe("trpc.test.helloworld.Greeter");
    expect(md.get("method")!).toBe("SayHello");
    expect(md.get("version")!).toBe("v1");
  });

  it("tells oneway calls, answers and failed answers apart by call_type, ret and func_ret", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    expect(decodeAs(c, Direction.Request, request(1, "/a.B/c", 1), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Oneway);
    expect(md.twoWay).toBe(false);
    expect(decodeAs(c, Direction.Response, response(2, 0, 0), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Response);
    expect(md.requestId).toBe(2);
    expect(md.get("x-back")!).toBe("1");
    expect(decodeAs(c, Direction.Response, response(3, 23, 0), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Error);
    expect(decodeAs(c, Direction.Response, response(4, 0, -7), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Error, "a business error (negative func_ret, 10-byte varint)");
  });

  it("a func without a service part is the method; attachments are part of the frame", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    const f = request(9, "plain", 0, 7);
    expect(decodeAs(c, Direction.Request, f, md)).toBe(DecodeStatus.Frame);
    expect(md.frameLength).toBe(f.length);
    expect(md.get("method")!).toBe("plain");
    expect(md.get("service")).toBeNull();
  });

  it("waits for a whole frame at every cut, then decodes a stream of frames", () => {
    const data = new ByteWriter();
    const parts = [request(1, "/a.B/c"), request(2, "/a.B/d", 1, 3), request(3, "/a.B/e")];
    for (let i = 0; i < parts.length; i++) data.bytes(parts[i].ptr, parts[i].length);
    for (let cut: u32 = 0; cut < data.length; cut++) {
      const c = new TrpcCodec(new Limits());
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

  it("a FrameStream tells the codec its direction", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    const answers = new FrameStream(Direction.Response);
    const f = response(5, 0, 0);
    answers.push(f.ptr, f.length);
    expect(answers.next(c, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Response);
    const calls = new FrameStream();
    const r = request(6, "/a.B/c");
    calls.push(r.ptr, r.length);
    expect(calls.next(c, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Request);
  });

  it("refuses other protocols, stream frames, impossible lengths, bad protobuf and every limit", () => {
    const md = new Metadata();
    const c = new TrpcCodec(new Limits());
    const bad = new ByteWriter(); bad.u8(0xda); bad.u8(0xbb);
    expect(decodeAs(c, Direction.Request, bad, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const half = new ByteWriter(); half.u8(0x09); half.u8(0x31);
    expect(decodeAs(c, Direction.Request, half, md)).toBe(DecodeStatus.Invalid);

    const stream = request(1, "/a.B/c"); store<u8>(stream.ptr + 2, 1);
    expect(decodeAs(c, Direction.Request, stream, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Unsupported);
    const unknownType = request(1, "/a.B/c"); store<u8>(unknownType.ptr + 2, 2);
    expect(decodeAs(c, Direction.Request, unknownType, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);

    const noHeader = request(1, "/a.B/c"); store<u16>(noHeader.ptr + 8, 0);
    expect(decodeAs(c, Direction.Request, noHeader, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const shortTotal = request(1, "/a.B/c"); store<u32>(shortTotal.ptr + 4, bswap<u32>(20));
    expect(decodeAs(c, Direction.Request, shortTotal, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);

    // The header's first field (call_type... here request_id's tag) turned into a length running past the header.
    const badPb = request(1, "/a.B/c"); store<u8>(badPb.ptr + 16, 3 << 3 | 2); store<u8>(badPb.ptr + 17, 0x7f);
    expect(decodeAs(c, Direction.Request, badPb, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const fieldZero = request(1, "/a.B/c"); store<u8>(fieldZero.ptr + 16, 0x00);
    expect(decodeAs(c, Direction.Request, fieldZero, md)).toBe(DecodeStatus.Invalid, "field number 0 is not protobuf");
    expect(c.error).toBe(DecodeError.Malformed);
    const badAttachment = request(1, "/a.B/c", 0, 2); store<u32>(badAttachment.ptr + 4, bswap<u32>(badAttachment.length - 7));
    expect(c.decode(badAttachment.ptr, badAttachment.length - 7, md)).toBe(DecodeStatus.Invalid, "attachment_size past the frame");

    const small = new Limits(); small.maxFrameBytes = 64;
    const big = request(1, "/a.B/c");
    const sc = new TrpcCodec(small);
    expect(sc.decode(big.ptr, 16, md)).toBe(DecodeStatus.Invalid, "the limit is checked from the frame head alone");
    expect(sc.error).toBe(DecodeError.FrameTooLarge);

    const few = new Limits(); few.maxMetadataEntries = 3;
    const fc = new TrpcCodec(few);
    expect(decodeAs(fc, Direction.Request, request(1, "/a.B/c"), md)).toBe(DecodeStatus.Invalid);
    expect(fc.error).toBe(DecodeError.TooManyMetadataEntries);

    const short = new Limits(); short.maxMetadataValueBytes = 8;
    const vc = new TrpcCodec(short);
    expect(decodeAs(vc, Direction.Request, request(1, "/a.B/c"), md)).toBe(DecodeStatus.Invalid);
    expect(vc.error).toBe(DecodeError.MetadataValueTooLarge);
  });

  it("never traps on random corruption of valid frames (seeded)", () => {
    let s: u32 = 0x5eed;
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    const bases = [request(7, "/a.B/c", 0, 3), response(7, 0, 0)];
    const copy = new ByteWriter();
    for (let n = 0; n < 20000; n++) {
      const base = bases[n & 1];
      copy.clear();
      copy.bytes(base.ptr, base.length);
      for (let k = 0; k < 3; k++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        store<u8>(copy.ptr + (s % copy.length), <u8>(s >> 8));
      }
      s ^= s << 13; s ^= s >> 17; s ^= s << 5;
      md.reset();
      c.decoding = (n & 1) == 0 ? Direction.Request : Direction.Response;
      const st = c.decode(copy.ptr, s % (copy.length + 1), md);
      if (st == DecodeStatus.Frame) expect(md.frameLength <= copy.length).toBe(true);
    }
  });
});

describe("TrpcCodec replies, probe, identify and mutation", () => {
  it("answers with a ResponseProtocol: the request's id, ret per ErrorKind, the message as error_msg", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    expect(decodeAs(c, Direction.Request, request(42, "/a.B/c"), md)).toBe(DecodeStatus.Frame);
    const kinds: ErrorKind[] = [ErrorKind.OverLimit, ErrorKind.Unauthorized, ErrorKind.FaultAbort, ErrorKind.NoRoute, ErrorKind.BadRequest];
    const rets: u32[] = [23, 41, 31, 12, 1];
    for (let i = 0; i < kinds.length; i++) {
      const out = new ByteWriter();
      c.respond(kinds[i], "no", md, out);
      const back = new Metadata();
      c.decoding = Direction.Response;
      expect(c.decode(out.ptr, out.length, back)).toBe(DecodeStatus.Frame);
      expect(back.kind).toBe(MessageKind.Error);
      expect(back.requestId).toBe(42);
      expect(back.frameLength).toBe(out.length);
      expect(<u32>bswap<u32>(load<u32>(out.ptr + 10))).toBe(42, "stream id = request id (protocol version 1)");
      // Header: 18 2a (request_id 42) 20 <ret> 32 02 'n' 'o'.
      expect(<u32>bswap<u16>(load<u16>(out.ptr + 8))).toBe(8);
      expect(<u32>load<u8>(out.ptr + 16)).toBe(0x18);
      expect(<u32>load<u8>(out.ptr + 19)).toBe(rets[i]);
      expect(<u32>load<u8>(out.ptr + 20)).toBe(0x32);
      out.free();
    }
  });

  it("probes with a unary call of a func no service has, carrying the request's id", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    expect(decodeAs(c, Direction.Request, request(99, "/a.B/c"), md)).toBe(DecodeStatus.Frame);
    const out = new ByteWriter();
    expect(c.probe(md, null, out)).toBe(true);
    const p = new Metadata();
    c.decoding = Direction.Request;
    expect(c.decode(out.ptr, out.length, p)).toBe(DecodeStatus.Frame);
    expect(p.kind).toBe(MessageKind.Request);
    expect(p.twoWay).toBe(true);
    expect(p.requestId).toBe(99);
    expect(p.get("func")!).toBe("/meltemi-probe/none");
  });

  it("identify reads a refused two-way request's id; not a oneway one, not a partial header", () => {
    const small = new Limits(); small.maxFrameBytes = 40;
    const sc = new TrpcCodec(small);
    const md = new Metadata();
    const f = request(77, "/a.B/c");
    expect(decodeAs(sc, Direction.Request, f, md)).toBe(DecodeStatus.Invalid);
    expect(sc.identify(f.ptr, f.length, md)).toBe(true);
    expect(md.requestId).toBe(77);
    expect(md.kind).toBe(MessageKind.Request);
    const oneway = request(78, "/a.B/c", 1);
    expect(sc.identify(oneway.ptr, oneway.length, md)).toBe(false, "a oneway call is never answered");
    expect(sc.identify(f.ptr, 20, md)).toBe(false, "the header is not whole");
  });

  it("sets, overwrites and appends trans_info entries, fixing both lengths; answers too", () => {
    const c = new TrpcCodec(new Limits());
    const md = new Metadata();
    const f = request(5, "/a.B/c", 0, 4);
    expect(decodeAs(c, Direction.Request, f, md)).toBe(DecodeStatus.Frame);
    const m = new Mutation().set("version", "v2").set("x-new", "1");
    const out = new ByteWriter();
    expect(c.encodeMutated(f.ptr, md, m, out)).toBe(true);
    const back = new Metadata();
    expect(decodeAs(c, Direction.Request, out, back)).toBe(DecodeStatus.Frame);
    expect(back.frameLength).toBe(out.length);
    expect(back.get("version")!).toBe("v2");
    expect(back.get("x-new")!).toBe("1");
    expect(back.get("method")!).toBe("c");
    expect(back.requestId).toBe(5);
    expect(<u32>load<u8>(out.ptr + out.length - 1)).toBe(0x41 + 8, "body and attachment follow unchanged");

    const r = response(8, 0, 0);
    expect(decodeAs(c, Direction.Response, r, md)).toBe(DecodeStatus.Frame);
    const rout = new ByteWriter();
    expect(c.encodeMutated(r.ptr, md, new Mutation().set("x-back", "2"), rout)).toBe(true);
    expect(decodeAs(c, Direction.Response, rout, back)).toBe(DecodeStatus.Frame);
    expect(back.kind).toBe(MessageKind.Response);
    expect(back.get("x-back")!).toBe("2");
  });
});
