import { ByteWriter } from "../../bytes";
import { DecodeError, DecodeStatus, Limits } from "../../codec";
import { Metadata, MessageKind } from "../../metadata";
import { ThriftCodec } from "../codec";
import { Protocol, Transport, protocolOf, transportOf } from "../wire";
import { BINARY, COMPACT, ENVOY_THEADER, LAX, concat, decodeN, framed, hex, streamSummary } from "./fixtures";

function expectHello(codec: ThriftCodec, w: ByteWriter, transport: Transport, protocol: Protocol): void {
  const md = new Metadata();
  expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
  expect(md.kind).toBe(MessageKind.Request);
  expect(md.requestId).toBe(1);
  expect(md.frameLength).toBe(w.length);
  expect(md.twoWay).toBe(true);
  expect(md.count).toBe(1);
  expect(md.get("method")).toBe("hello");
  expect(md.get("service")).toBeNull();
  expect(transportOf(md.codecFlags)).toBe(transport);
  expect(protocolOf(md.codecFlags)).toBe(protocol);
}

describe("Thrift transports and protocols", () => {
  it("decodes unframed and framed strict binary, compact and non-strict binary", () => {
    const codec = new ThriftCodec(new Limits());
    expectHello(codec, hex(BINARY), Transport.Unframed, Protocol.Binary);
    expectHello(codec, framed(hex(BINARY)), Transport.Framed, Protocol.Binary);
    expectHello(codec, hex(COMPACT), Transport.Unframed, Protocol.Compact);
    expectHello(codec, framed(hex(COMPACT)), Transport.Framed, Protocol.Compact);
    expectHello(codec, hex(LAX), Transport.Unframed, Protocol.LaxBinary);
    expectHello(codec, framed(hex(LAX)), Transport.Framed, Protocol.LaxBinary);
  });

  it("decodes THeader with key/value headers (Envoy's header transport test vector)", () => {
    // Envoy header_transport_impl_test.cc "Frame with headers": compact, seqid 10, headers key=value and
    // ""="", header data padded to 20 bytes; its "fake message" payload replaced by a compact call.
    const w = hex(ENVOY_THEADER);
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
    expect(md.frameLength).toBe(44);
    expect(md.requestId).toBe(10);
    expect(transportOf(md.codecFlags)).toBe(Transport.Header);
    expect(protocolOf(md.codecFlags)).toBe(Protocol.Compact);
    expect(md.count).toBe(3);
    expect(md.get("key")).toBe("value");
    expect(md.get("")).toBe("");
    expect(md.get("method")).toBe("hello");
  });

  it("ignores THeader info blocks it does not know, and header keys named method or service", () => {
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    // Envoy's "unknown info block id" vector: 0 = binary, 0 transforms, info id 2, padding.
    const payload = hex(BINARY);
    const w = new ByteWriter();
    w.u32(10 + 4 + payload.length); w.u16(0x0fff); w.u16(1); w.u32(1); w.u16(1); w.u32(0x00000200);
    w.bytes(payload.ptr, payload.length);
    expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
    expect(md.count).toBe(1);
    expect(md.get("method")).toBe("hello");

    // Headers "method" and "service" would let a client override what the message says.
    const h = new ByteWriter();
    h.u16(0x0fff); h.u16(0); h.u32(1); h.u16(8);
    h.u8(0); h.u8(0); h.u8(1); h.u8(3);
    h.u8(6); h.utf8("method"); h.u8(4); h.utf8("evil");
    h.u8(7); h.utf8("service"); h.u8(3); h.utf8("bad");
    h.u8(1); h.utf8("k"); h.u8(1); h.utf8("v");
    while (h.length < 14 - 4 + 32) h.u8(0);
    h.bytes(payload.ptr, payload.length);
    const f = framed(h);
    expect(decodeN(codec, f, f.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
    expect(md.get("method")).toBe("hello");
    expect(md.get("service")).toBeNull();
    expect(md.get("k")).toBe("v");
  });

  it("maps message types to kinds, and keeps negative seqids", () => {
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    // compact: (type << 5) | 1; seqid varint ff ff ff ff 0f = 0xffffffff = -1
    const types: u32[] = [1, 2, 3, 4];
    const kinds: MessageKind[] = [MessageKind.Request, MessageKind.Response, MessageKind.Error, MessageKind.Oneway];
    for (let i = 0; i < types.length; i++) {
      const w = new ByteWriter();
      w.u8(0x82); w.u8((types[i] << 5) | 1); w.u32(0xffffffff); w.u8(0x0f); w.u8(1); w.utf8("m"); w.u8(0);
      expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
      expect(md.kind).toBe(kinds[i]);
      expect(md.requestId).toBe(-1);
      expect(md.twoWay).toBe(types[i] == 1);
    }
    const bad = hex("800100050000000568656c6c6f0000000100");
    expect(decodeN(codec, bad, bad.length, md)).toBe(DecodeStatus.Invalid);
    expect(codec.error).toBe(DecodeError.Malformed);
  });

  it("splits a multiplexed name at the first colon", () => {
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    const names = ["Calculator:add", ":x", "a:b:c", "plain:"];
    const services = ["Calculator", "", "a", "plain"];
    const methods = ["add", "x", "b:c", ""];
    for (let i = 0; i < names.length; i++) {
      const w = new ByteWriter();
      w.u32(0x80010001); w.u32(<u32>names[i].length); w.utf8(names[i]); w.u32(9); w.u8(0);
      expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
      expect(md.get("service")).toBe(services[i]);
      expect(md.get("method")).toBe(methods[i]);
      expect(md.requestId).toBe(9);
    }
  });

  it("needs more bytes for every proper prefix of every transport, and never fails on one", () => {
    const vectors: ByteWriter[] = [hex(BINARY), framed(hex(BINARY)), hex(COMPACT), framed(hex(COMPACT)), hex(LAX), framed(hex(LAX)),
      hex(ENVOY_THEADER)];
    const md = new Metadata();
    for (let v = 0; v < vectors.length; v++) {
      const w = vectors[v];
      for (let k: u32 = 0; k < w.length; k++) {
        const codec = new ThriftCodec(new Limits());
        expect(decodeN(codec, w, k, md)).toBe(DecodeStatus.NeedMore, "vector " + v.toString() + " prefix " + k.toString() + ": " + codec.errorDetail);
      }
    }
  });

  it("cuts pipelined frames of mixed transports the same at every piece size", () => {
    const stream = concat(concat(concat(hex(BINARY), framed(hex(COMPACT))), concat(hex(LAX), framed(hex(LAX)))), hex(COMPACT));
    const whole = streamSummary(new ThriftCodec(new Limits()), stream, stream.length);
    expect(whole).toBe("0/1/28;0/1/19;0/1/25;0/1/29;0/1/15;pending=0");
    for (let piece: u32 = 1; piece < stream.length; piece++) {
      expect(streamSummary(new ThriftCodec(new Limits()), stream, piece)).toBe(whole, "piece " + piece.toString());
    }
  });

  it("records the client's wire format from its first request", () => {
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    expect(codec.requestWire).toBe(-1);
    const c = framed(hex(COMPACT));
    decodeN(codec, c, c.length, md);
    const b = hex(BINARY);
    decodeN(codec, b, b.length, md);
    expect(transportOf(<u32>codec.requestWire)).toBe(Transport.Framed);
    expect(protocolOf(<u32>codec.requestWire)).toBe(Protocol.Compact);
  });
});
